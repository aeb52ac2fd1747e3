//! libFuzzer target: a hook request body read as the service reads it
//! (`ParsedBody::within`), the input limits and the patient record, then the default rule pack.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cart_sentinel_fuzz::hook_request(data));
