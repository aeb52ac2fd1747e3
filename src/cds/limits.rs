//! Limits on hostile input that any endpoint taking a JSON body can apply: the limits of a
//! hook call (from `[limits]`) and the nesting depth, checked on the raw bytes before any
//! parser builds a tree (parsers recurse, so a deep body could exhaust a worker's stack). A
//! limit exceeded is a [`RequestError`] naming the field (400); the body size itself is
//! limited by the HTTP layer (413). Must not import actix-web, `SQLx` or reqwest.

use super::error::RequestError;

/// The limits applied to a hook call (from `[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Deepest nesting of arrays and objects in the body.
    pub max_json_depth: usize,
    /// Most resources over all prefetch values (a Bundle counts its entries).
    pub max_prefetch_resources: usize,
    /// Most entries in `context.draftOrders`.
    pub max_draft_orders: usize,
}

/// The deepest nesting of arrays and objects in `body`, found by a byte scan that skips
/// strings (escapes included) and stops as soon as `limit` is exceeded. Works on any bytes:
/// invalid JSON is left for the parser to report.
pub fn json_depth_exceeds(body: &[u8], limit: usize) -> bool {
    let (mut depth, mut i) = (0usize, 0usize);
    while let Some(&b) = body.get(i) {
        i += 1;
        if b == b'"' {
            loop {
                match string_end(body, i) {
                    Some(end) => i = end,
                    None => return false,
                }
                // A key and its string value (`":"`), or two strings of a list (`","`): the
                // next string starts at once.
                match body.get(i..i + 2) {
                    Some([b':' | b',', b'"']) => i += 2,
                    _ => break,
                }
            }
        } else if b & 0xDF == b'[' {
            // `[` or `{`: they differ in the bit 0x20 alone, as `]` and `}` do.
            depth += 1;
            if depth > limit {
                return true;
            }
        } else if b & 0xDF == b']' {
            depth = depth.saturating_sub(1);
        }
    }
    false
}

/// Where the string whose content starts at `i` ends (just past its closing quote), `None` when
/// it does not. Most of a request is string content, most strings are short (keys, codes,
/// dates), so they are read eight bytes at a time: a call to a vectorised search costs more
/// than a short string.
fn string_end(body: &[u8], mut i: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    loop {
        if let Some(word) = body.get(i..).and_then(<[u8]>::first_chunk::<8>) {
            // The high bit of each byte that is a quote or a backslash (exact for the first
            // such byte, which is all that is read).
            let w = u64::from_le_bytes(*word);
            let quote = w ^ (ONES * u64::from(b'"'));
            let backslash = w ^ (ONES * u64::from(b'\\'));
            let found = (quote.wrapping_sub(ONES) & !quote
                | backslash.wrapping_sub(ONES) & !backslash)
                & HIGHS;
            if found == 0 {
                i += 8;
                continue;
            }
            i += (found.trailing_zeros() / 8) as usize;
        }
        match body.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// Refuses a body nested deeper than `limit` levels, before it is parsed.
pub fn check_json_depth(body: &[u8], limit: usize) -> Result<(), RequestError> {
    if json_depth_exceeds(body, limit) {
        return Err(RequestError::new(
            "",
            format!("body is nested deeper than {limit} levels"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert!(!json_depth_exceeds(br#"{"a": [[1]]}"#, 3));
        assert!(json_depth_exceeds(br#"{"a": [[[1]]]}"#, 3));
        assert!(!json_depth_exceeds(br#"{"a": "[[[[[[\"[[[["}"#, 1));
        assert!(!json_depth_exceeds(br#"{"a": "\\"}"#, 1));
        assert!(json_depth_exceeds(&b"[".repeat(10_000), 64));
        assert!(!json_depth_exceeds(b"\xff\xfe[]", 1));
        let err = check_json_depth(b"[[[]]]", 2).unwrap_err();
        assert_eq!(err.message, "body is nested deeper than 2 levels");
    }

    /// A byte-by-byte scan, as the reference.
    fn depth_exceeds_bytewise(body: &[u8], limit: usize) -> bool {
        let (mut depth, mut i, mut in_string) = (0usize, 0usize, false);
        while let Some(&b) = body.get(i) {
            i += 1;
            match (in_string, b) {
                (true, b'\\') => i += 1,
                (true, b'"') => in_string = false,
                (false, b'"') => in_string = true,
                (false, b'[' | b'{') => {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
                (false, b']' | b'}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        false
    }

    #[test]
    fn the_string_skipping_scan_agrees_with_a_bytewise_one() {
        // Every request and resource file of the repository, at every limit around its depth.
        // Absolute paths: figment's `Jail` (config tests) moves the process's working directory.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("benches/data/typical.json")];
        let mut dirs = vec![root.join("fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                match path.is_dir() {
                    true => dirs.push(path),
                    false => files.push(path),
                }
            }
        }
        assert!(files.len() > 100, "{} files", files.len());
        for file in &files {
            let body = std::fs::read(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
            for limit in 0..12 {
                let expected = depth_exceeds_bytewise(&body, limit);
                assert_eq!(
                    json_depth_exceeds(&body, limit),
                    expected,
                    "{file:?} {limit}"
                );
            }
        }
        // Random bytes from the characters that matter (a fixed linear congruential sequence),
        // long enough for strings of several eight-byte words.
        let alphabet = br#""\[]{}:,a "#;
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..40_000 {
            let len = usize::try_from(state >> 57).unwrap();
            let body: Vec<u8> = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    alphabet[usize::try_from(state >> 60).unwrap() % alphabet.len()]
                })
                .collect();
            for limit in 0..4 {
                let expected = depth_exceeds_bytewise(&body, limit);
                assert_eq!(
                    json_depth_exceeds(&body, limit),
                    expected,
                    "{body:?} {limit}"
                );
            }
        }
    }
}
