-- Metadata of each walking network stored in network_nodes/network_edges (0004): the source
-- file and the note echoed in answers (e.g. "drive network used as a stand-in for footways"),
-- so a service that loads its network from PostGIS says what it walks on, as one loaded from
-- the compact file does.
CREATE TABLE IF NOT EXISTS network_meta (
    network  text PRIMARY KEY,
    meta     jsonb NOT NULL
);
