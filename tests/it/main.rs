//! One integration test binary (one link), one module per capability.

mod common;

mod bad_input;
mod calendar;
mod catalog;
mod chart;
mod crash;
#[cfg(feature = "lambda")]
mod deploy;
mod download;
mod fuzz_corpus;
mod hardening;
#[cfg(feature = "lambda")]
mod iam;
mod ingest;
#[cfg(feature = "lambda")]
mod lambda;
mod layers;
mod parse;
mod portfolio;
mod readers;
mod s3;
mod serve;
mod sql;
mod statements;
mod synth;
mod transform;
mod trigger;
mod writers;

/// The Lambda function's tests need its feature; the test command (`tests/run.sh`) enables it.
#[cfg(not(feature = "lambda"))]
#[test]
fn the_lambda_tests_need_the_lambda_feature() {
    panic!("the Lambda handler's tests did not run: run the tests with tests/run.sh (cargo test --features lambda)");
}
