-- monitoring.sql: how far behind is walcast-agent, and what does its slot
-- cost the server?
--
--   psql -d appdb -f sql/monitoring.sql                    (every logical slot)
--   psql -d appdb -v slot=walcast -f sql/monitoring.sql    (one slot)
--
-- Columns:
--   active_pid          the walsender serving the agent; NULL = no agent
--                       connected (a slot that stays inactive still pins WAL)
--   confirmed_flush_lsn the position the agent confirmed: every transaction
--                       that ended before it reached the broker
--   lag_bytes           WAL written since then: what a restart would replay
--   retained_wal_bytes  WAL the server keeps for this slot (from restart_lsn,
--                       which trails confirmed_flush_lsn to the oldest
--                       transaction still running when decoding got there)
--   wal_status          reserved/extended: fine; unreserved: about to be
--                       invalidated; lost: invalidated (the agent exits 4)
--   safe_wal_size       bytes left before max_slot_wal_keep_size
--                       invalidates the slot (NULL = unlimited)
--   reply_age           time since the agent's last status update (at most
--                       its --status-interval while it runs)

\if :{?slot}
\else
\set slot ''
\endif

SELECT s.slot_name,
	   s.plugin,
	   s.database,
	   s.active_pid,
	   s.confirmed_flush_lsn,
	   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(),
								  s.confirmed_flush_lsn) AS lag_bytes,
	   pg_catalog.pg_size_pretty(
		   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(),
									  s.restart_lsn)) AS retained_wal,
	   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(),
								  s.restart_lsn) AS retained_wal_bytes,
	   s.wal_status,
	   s.safe_wal_size,
	   pg_catalog.now() - r.reply_time AS reply_age
FROM pg_catalog.pg_replication_slots s
LEFT JOIN pg_catalog.pg_stat_replication r ON r.pid = s.active_pid
WHERE s.slot_type = 'logical'
  AND (:'slot' = '' OR s.slot_name = :'slot')
ORDER BY s.slot_name;
