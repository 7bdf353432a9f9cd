//! Gzip, as user data and encoded files carry it (often inside base64): decompressed with a cap
//! on the size it may grow to. Gzip is opaque, like base64 (no offset map), and it is read, never
//! rewritten: a fix inside a compressed value is not applied.

use std::io::{Read, Write};

use super::encoding::MAX_DECODED;

/// Decompresses gzip, refusing to grow past [`MAX_DECODED`].
pub fn decode(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_DECODED as u64 + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() <= MAX_DECODED).then_some(out)
}

/// Compresses with gzip (for tests).
pub fn encode(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Gzip is read, never rewritten (`Codec::Gzip`, `Codec::GzipBase64`): always `None`.
pub fn reencode(_decoded: &[u8]) -> Option<Vec<u8>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trip_and_bomb_cap() {
        let text = b"curl http://169.254.169.254/latest/meta-data/\n";
        assert_eq!(decode(&encode(text)).unwrap(), text);
        let bomb = encode(&vec![b'a'; MAX_DECODED + 10]);
        assert!(decode(&bomb).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Compressed bytes decompress to themselves.
        #[test]
        fn round_trip(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            proptest::prop_assert_eq!(decode(&encode(&bytes)), Some(bytes));
        }

        /// Gzip has no offset map to check (it is opaque): what stands for it is that a value
        /// cut short or altered anywhere is refused or read within the cap, never a panic.
        #[test]
        fn damaged_streams_are_refused_or_capped(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
            cut in 0usize..300,
            flip in 0usize..300,
        ) {
            let mut compressed = encode(&bytes);
            if let Some(b) = compressed.get_mut(flip) {
                *b ^= 0x5a;
            }
            compressed.truncate(cut.max(2));
            if let Some(decoded) = decode(&compressed) {
                proptest::prop_assert!(decoded.len() <= MAX_DECODED);
            }
        }
    }
}
