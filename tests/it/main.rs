//! One integration test binary (one link), one module per capability.

mod common;

mod bad_input;
mod catalog;
mod chart;
mod crash;
mod download;
mod fuzz_corpus;
mod ingest;
mod layers;
mod parse;
mod portfolio;
mod readers;
mod s3;
mod sql;
mod synth;
mod transform;
mod trigger;
