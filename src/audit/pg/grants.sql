-- What an application role (`__R__`) may do: read, append through lock_head() and the
-- insert trigger, record heads in the witness. Never update or delete.
GRANT USAGE ON SCHEMA __S__ TO __R__;
GRANT SELECT ON __S__.meta, __S__.head TO __R__;
GRANT SELECT, INSERT ON __S__.records TO __R__;
GRANT EXECUTE ON FUNCTION __S__.lock_head(), __S__.start_journal(uuid, bigint, bytea) TO __R__;
GRANT USAGE ON SCHEMA __W__ TO __R__;
GRANT SELECT, INSERT ON __W__.heads TO __R__;
