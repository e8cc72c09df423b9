-- Eldercare facilities and walking networks (issue: 15-minute service-circle coverage).
-- Self-contained and idempotent: diming runs it at start in the schema it is given.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE IF NOT EXISTS facilities (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    type          text NOT NULL,
    lon           double precision NOT NULL,
    lat           double precision NOT NULL,
    geom          geometry(Point, 4326) NOT NULL,
    address       text,
    address_code  text,
    division      text,
    level         text,
    beds          integer,
    nursing_beds  integer,
    price_min     double precision,
    price_max     double precision,
    phone         text,
    hours         text,
    operator      text,
    photo_url     text,
    status        text NOT NULL DEFAULT 'open',
    synthetic     boolean NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS facilities_geom_idx ON facilities USING gist (geom);
CREATE INDEX IF NOT EXISTS facilities_type_idx ON facilities (type);

-- walking networks written by `diming import-network --database-url`
CREATE TABLE IF NOT EXISTS network_nodes (
    network  text NOT NULL,
    id       integer NOT NULL,
    geom     geometry(Point, 4326) NOT NULL,
    PRIMARY KEY (network, id)
);
CREATE TABLE IF NOT EXISTS network_edges (
    network       text NOT NULL,
    id            bigserial,
    source        integer NOT NULL,
    target        integer NOT NULL,
    length_m      double precision NOT NULL,
    cost          double precision NOT NULL,
    reverse_cost  double precision NOT NULL,
    geom          geometry(LineString, 4326) NOT NULL,
    PRIMARY KEY (network, id)
);
CREATE INDEX IF NOT EXISTS network_edges_geom_idx ON network_edges USING gist (geom);
