//! libFuzzer target: a rule file through `engine::load::parse::<Rule>` and `engine::compile`
//! of the default pack with the rule added.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cart_sentinel_fuzz::rule_file(data));
