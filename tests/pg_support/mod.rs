//! A throwaway PostgreSQL cluster for the tests: initdb into a temporary folder, started on
//! a unix socket only (no TCP port to collide), stopped when the test process exits (a
//! watchdog process stops it). PostgreSQL refuses to run as root: as root, the server runs
//! as the `postgres` account. Without initdb/pg_ctl, tests print `SKIP:` and pass.
#![allow(dead_code)] // each test binary uses its own subset

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use bcss::audit::pg::{InitOptions, PgLocation, init};
use bcss::transport::http::PasswordSource;

/// The role that owns the journal's schema (runs init and prune).
pub const OWNER: &str = "bcss_owner";
/// The application's role: reads and appends only.
pub const APP: &str = "bcss_app";
/// The superuser (trusted on the socket): bypasses triggers in tamper tests.
pub const SUPERUSER: &str = "bcss_super";
/// The roles' password (test only; given to bcss through a file).
pub const PASSWORD: &str = "Tr0ub4dor&3-test-only";

/// Where the PostgreSQL server programs are, when they are. `BCSS_PG_BIN`, when set, must
/// hold them: a folder named on purpose that does not is a mistake to say, not a SKIP.
pub fn bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("BCSS_PG_BIN") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("initdb").is_file() && dir.join("pg_ctl").is_file(),
            "BCSS_PG_BIN={} holds no initdb and pg_ctl (PostgreSQL's server programs, e.g. /usr/lib/postgresql/15/bin); unset it to look in /usr/lib/postgresql",
            dir.display()
        );
        return Some(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// A running cluster.
pub struct Cluster {
    pub root: PathBuf,
    pub socket_dir: PathBuf,
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<(u32, u32)>,
    pub password_file: PathBuf,
    /// The TCP port on 127.0.0.1, for a cluster started with TLS.
    pub tls_port: Option<u16>,
    _tmp: tempfile::TempDir,
}

/// A server certificate and its key, both PEM, for a cluster that takes TLS connections.
pub struct ServerTls {
    pub cert_pem: String,
    pub key_pem: String,
}

fn account(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.first() == Some(&name))
            .then(|| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))?
    })
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

impl Cluster {
    /// Start a new cluster for tests (fsync off: fast, and nothing outlives the test), or
    /// `None` (after printing `SKIP: ...`) when it cannot be.
    pub fn start(why: &str) -> Option<Cluster> {
        Cluster::start_with(why, false)
    }

    /// Start a new cluster; `durable`: fsync on, as in production (for benchmarks).
    pub fn start_with(why: &str, durable: bool) -> Option<Cluster> {
        Cluster::start_full(why, durable, None)
    }

    /// Start a new cluster (fsync off) that also listens on 127.0.0.1 (a free port) and
    /// accepts there only TLS connections, with `tls`'s certificate; the unix socket stays
    /// as for [`start`](Self::start).
    pub fn start_tls(why: &str, tls: &ServerTls) -> Option<Cluster> {
        Cluster::start_full(why, false, Some(tls))
    }

    fn start_full(why: &str, durable: bool, tls: Option<&ServerTls>) -> Option<Cluster> {
        let Some(bin) = bin_dir() else {
            println!(
                "SKIP: {why}: PostgreSQL's initdb and pg_ctl were not found (install Debian's `postgresql` package, or set BCSS_PG_BIN)"
            );
            return None;
        };
        let run_as = if is_root() {
            match account("postgres") {
                Some(ids) => Some(ids),
                None => {
                    println!(
                        "SKIP: {why}: running as root, and there is no `postgres` account to run the server as"
                    );
                    return None;
                }
            }
        } else {
            None
        };
        match Cluster::init(bin, run_as, durable, tls) {
            Ok(c) => Some(c),
            Err(e) => {
                println!("SKIP: {why}: a local PostgreSQL cluster could not be started: {e}");
                None
            }
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.run_as {
            c.uid(uid).gid(gid);
        }
        c.env_remove("PGDATA").env("LC_ALL", "C");
        c
    }

    fn init(
        bin: PathBuf,
        run_as: Option<(u32, u32)>,
        durable: bool,
        tls: Option<&ServerTls>,
    ) -> Result<Cluster, String> {
        let tmp = tempfile::Builder::new()
            .prefix("bcss-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let root = tmp.path().to_path_buf();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let data = root.join("data");
        let socket_dir = root.join("run");
        for dir in [&data, &socket_dir] {
            std::fs::create_dir(dir).map_err(|e| e.to_string())?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| e.to_string())?;
            if let Some((uid, gid)) = run_as {
                std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
            }
        }
        std::fs::set_permissions(&socket_dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let password_file = root.join("password");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).map_err(|e| e.to_string())?;
        let mut cluster = Cluster {
            root,
            socket_dir,
            bin,
            data,
            run_as,
            password_file,
            tls_port: None,
            _tmp: tmp,
        };
        let out = cluster
            .command("initdb")
            .arg("-D")
            .arg(&cluster.data)
            .args([
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=reject",
                "--no-sync",
                "-E",
                "UTF8",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let mut hba = format!("local all {SUPERUSER} trust\nlocal all all scram-sha-256\n");
        let mut listen = "listen_addresses = ''\n".to_string();
        if let Some(tls) = tls {
            let port = free_port()?;
            cluster.tls_port = Some(port);
            for (name, pem) in [("server.crt", &tls.cert_pem), ("server.key", &tls.key_pem)] {
                let path = cluster.data.join(name);
                std::fs::write(&path, pem).map_err(|e| e.to_string())?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| e.to_string())?;
                if let Some((uid, gid)) = run_as {
                    std::os::unix::fs::chown(&path, Some(uid), Some(gid))
                        .map_err(|e| e.to_string())?;
                }
            }
            hba.push_str(
                "hostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 0.0.0.0/0 reject\n",
            );
            listen = format!(
                "listen_addresses = '127.0.0.1'\nport = {port}\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
            );
        }
        std::fs::write(cluster.data.join("pg_hba.conf"), hba).map_err(|e| e.to_string())?;
        let durability = if durable {
            "shared_buffers = 256MB\nmax_wal_size = 1GB\n"
        } else {
            "fsync = off\nfull_page_writes = off\nshared_buffers = 32MB\n"
        };
        let conf = format!(
            "{listen}unix_socket_directories = '{}'\nmax_connections = 200\n{durability}",
            cluster.socket_dir.display()
        );
        let mut existing =
            std::fs::read_to_string(cluster.data.join("postgresql.conf")).unwrap_or_default();
        existing.push_str(&conf);
        std::fs::write(cluster.data.join("postgresql.conf"), existing)
            .map_err(|e| e.to_string())?;
        cluster.pg_ctl_start()?;
        cluster.watchdog();
        cluster.psql(
            "postgres",
            &format!(
                "CREATE ROLE {OWNER} LOGIN PASSWORD '{PASSWORD}'; CREATE ROLE {APP} LOGIN PASSWORD '{PASSWORD}';"
            ),
        )?;
        Ok(cluster)
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .args(["-w", "-t", "30", "start"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("pg_ctl start: {e}"))?;
        if !out.status.success() {
            let log = std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default();
            return Err(format!(
                "pg_ctl start: {}{log}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    /// Stop the server now (`immediate`: as if it crashed).
    pub fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Start it again after [`stop`](Self::stop).
    pub fn restart(&self) {
        self.pg_ctl_start().expect("restart PostgreSQL");
    }

    /// A process that stops the server and removes its files once this process is gone.
    fn watchdog(&self) {
        let stop = format!(
            "{} '{}' -D '{}' -m immediate stop >/dev/null 2>&1",
            match self.run_as {
                Some(_) => "runuser -u postgres --",
                None => "",
            },
            self.bin.join("pg_ctl").display(),
            self.data.display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}; rm -rf '{root}'",
            pid = std::process::id(),
            root = self.root.display()
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
    }

    /// Run SQL as the superuser, through psql on the socket.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let psql = if self.bin.join("psql").exists() {
            self.bin.join("psql")
        } else {
            PathBuf::from("psql")
        };
        let out = Command::new(psql)
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.socket_dir)
            .args(["-U", SUPERUSER, "-d", db, "-c", sql])
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// A new database, owned by [`OWNER`], its journal schema made by `init` (with the
    /// application role granted).
    pub fn database(&self) -> Database {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "bcss_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        self.psql("postgres", &format!("CREATE DATABASE {name} OWNER {OWNER}"))
            .expect("create a database");
        Database {
            name,
            socket_dir: self.socket_dir.clone(),
            password_file: self.password_file.clone(),
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago (the server binds it next).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// The cluster shared by the tests of one test binary (started once).
pub fn shared(why: &str) -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    let cluster = CLUSTER.get_or_init(|| Cluster::start("PostgreSQL tests"));
    if cluster.is_none() {
        println!("SKIP: {why}: no local PostgreSQL (see above)");
    }
    cluster.as_ref()
}

/// One test's database.
pub struct Database {
    pub name: String,
    pub socket_dir: PathBuf,
    password_file: PathBuf,
}

impl Database {
    /// The URL for `role` (no password: it is read from the file).
    pub fn url(&self, role: &str, schema: &str) -> String {
        let socket = self.socket_dir.display().to_string().replace('/', "%2F");
        format!("postgres://{role}@{socket}/{}?schema={schema}", self.name)
    }

    /// The location for `role`, its password read from the test's password file.
    pub fn location(&self, role: &str, schema: &str) -> PgLocation {
        PgLocation::parse(
            &self.url(role, schema),
            Some(PasswordSource::File(self.password_file.clone())),
        )
        .expect("a test location")
    }

    /// The URL for `role` over TCP to 127.0.0.1:`port`, with `params` (`sslmode=...`).
    pub fn tcp_url(&self, role: &str, schema: &str, port: u16, params: &str) -> String {
        format!(
            "postgres://{role}@127.0.0.1:{port}/{}?schema={schema}&{params}",
            self.name
        )
    }

    /// A plain connection as `role` over the unix socket, and the task driving it (abort
    /// it when done).
    pub async fn connect_as(
        &self,
        role: &str,
    ) -> (tokio_postgres::Client, tokio::task::JoinHandle<()>) {
        let (client, connection) = tokio_postgres::Config::new()
            .host_path(&self.socket_dir)
            .user(role)
            .dbname(&self.name)
            .password(PASSWORD)
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connect to the test database");
        let task = tokio::spawn(async move {
            let _ = connection.await;
        });
        (client, task)
    }

    pub fn password_file(&self) -> &Path {
        &self.password_file
    }

    /// `init` the journal in `schema` as the owner, granting the application role.
    pub async fn init(&self, schema: &str) -> PgLocation {
        let owner = self.location(OWNER, schema);
        init(
            &owner,
            &InitOptions {
                roles: vec![APP.to_string()],
                witness_schema: None,
            },
        )
        .await
        .expect("init the journal schema");
        self.location(APP, schema)
    }
}
