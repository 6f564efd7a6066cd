-- One database per service that keeps its data in PostgreSQL (services share no tables).
-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d).
CREATE DATABASE horizon_subscriptions OWNER horizon;
CREATE DATABASE horizon_notify OWNER horizon;
