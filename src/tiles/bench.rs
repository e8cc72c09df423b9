//! `diming bench tiles`: diming vs Martin (over PostGIS) on a fixed tile list.
