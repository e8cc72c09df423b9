-- Road centre lines (the geometry of 街路巷) of the standard address database, one row per
-- county and road name: the geocoder places a crossing (…与…交叉口) where two lines meet, and
-- reverse geocoding answers the nearest road by its line. Self-contained: needs only PostGIS.
-- Coordinates CGCS2000 (EPSG:4490).
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE IF NOT EXISTS roads (
    -- six-digit code of the county the road is named in
    county      text NOT NULL CHECK (county ~ '^[0-9]{6}$'),
    name        text NOT NULL CHECK (name <> ''),
    geom        geometry(MultiLineString, 4490) NOT NULL,
    synthetic   boolean NOT NULL DEFAULT false,
    source      text,
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county, name)
);
CREATE INDEX IF NOT EXISTS roads_geom_idx ON roads USING gist (geom);
