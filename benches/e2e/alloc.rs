//! A counting global allocator, for this bench binary only: live and peak heap bytes and
//! the number of allocations, counted only while [`Counting::start`] is in force, so
//! that the timed rounds pay one relaxed load per allocation and nothing else.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, Ordering::Relaxed};

static ON: AtomicBool = AtomicBool::new(false);
/// Live bytes allocated while counting, less those freed while counting (it can go below
/// its starting value when blocks from before are freed).
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting.
pub struct Counting;

fn grew(size: usize) {
    let live = LIVE.fetch_add(size as isize, Relaxed) + size as isize;
    PEAK.fetch_max(live, Relaxed);
    ALLOCS.fetch_add(1, Relaxed);
    BYTES.fetch_add(size as u64, Relaxed);
}

fn shrank(size: usize) {
    LIVE.fetch_sub(size as isize, Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// plain atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is System's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && ON.load(Relaxed) {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && ON.load(Relaxed) {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        if ON.load(Relaxed) {
            shrank(layout.size());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && ON.load(Relaxed) {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

/// What was counted between [`Counting::start`] and [`Counting::stop`].
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    /// The highest live heap, above the live heap at the start, in bytes.
    pub peak_bytes: u64,
    /// Allocations (a `realloc` counts as one).
    pub allocations: u64,
    /// Bytes allocated, in total.
    pub allocated_bytes: u64,
}

impl Counting {
    /// Count from now on (counters reset).
    pub fn start() {
        ON.store(true, Relaxed);
        Counting::reset();
    }

    /// Reset the counters; the peak is measured from the live heap now.
    pub fn reset() {
        PEAK.store(LIVE.load(Relaxed), Relaxed);
        ALLOCS.store(0, Relaxed);
        BYTES.store(0, Relaxed);
        BASE.store(LIVE.load(Relaxed), Relaxed);
    }

    /// What was counted since the last reset.
    pub fn read() -> Counted {
        let base = BASE.load(Relaxed);
        Counted {
            peak_bytes: (PEAK.load(Relaxed) - base).max(0) as u64,
            allocations: ALLOCS.load(Relaxed),
            allocated_bytes: BYTES.load(Relaxed),
        }
    }

    /// Stop counting.
    pub fn stop() {
        ON.store(false, Relaxed);
    }
}

static BASE: AtomicIsize = AtomicIsize::new(0);
