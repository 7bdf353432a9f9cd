//! MIME transfer encodings (a part's `Content-Transfer-Encoding`): `base64` is decoded (and the
//! result decompressed when it is gzip), as a new host with no offset map; every other encoding
//! (`7bit`, `8bit`, `binary`, and also `quoted-printable`, which is not decoded) is the part's
//! body as written, mapped one to one.

use super::encoding::Codec;
use super::{base64, gzip, OffsetMap};

/// A part's body (`body`, at host offset `start`) decoded by its transfer `encoding` (lower
/// case): the bytes, how to write them back, and their map into the host when there is one.
/// `None` when the body is not valid for its encoding (base64 that does not decode).
pub fn decode(
    encoding: &str,
    body: &[u8],
    start: usize,
) -> Option<(Vec<u8>, Codec, Option<OffsetMap>)> {
    if encoding == "base64" {
        let (decoded, codec) = base64::decode(body)?;
        // A gzip-compressed part is decompressed too (then it cannot be rewritten).
        let (decoded, codec) = match gzip::decode(&decoded) {
            Some(unzipped) => (unzipped, Codec::GzipBase64),
            None => (decoded, codec),
        };
        return Some((decoded, codec, None));
    }
    Some((
        body.to_vec(),
        Codec::Verbatim,
        Some(OffsetMap::verbatim(start)),
    ))
}

/// Writes a part's body that was copied as it is (`Codec::Verbatim`): as it is.
pub fn encode(decoded: &[u8]) -> Vec<u8> {
    decoded.to_vec()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fragment::properties::spans_inside;
    use crate::fragment::HostSpan;

    /// Encodings a part may name that are taken as written.
    const AS_WRITTEN: &[&str] = &["7bit", "8bit", "binary", "quoted-printable", "x-unknown"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A body in base64 (wrapped at 76 columns with CRLF, as MIME writes it; gzip inside or
        /// not) decodes to the bytes, and a body taken as written is itself and writes back the
        /// same.
        ///
        /// Known limit (left out: the bytes start at 4): base64 of fewer than 4 bytes (8
        /// characters) is refused as not base64 (`base64::decode` asks for 8 characters, to tell
        /// base64 from a word), so a part that short gets a diagnostic. No part that short can
        /// hold a metadata request.
        #[test]
        fn round_trip(
            bytes in proptest::collection::vec(any::<u8>(), 4..300),
            zipped in any::<bool>(),
            encoding in proptest::sample::select(AS_WRITTEN),
            start in 0usize..64,
        ) {
            let payload = if zipped { gzip::encode(&bytes) } else { bytes.clone() };
            let body = base64::encode(&payload, Some(76), "\r\n", "", "\r\n");
            let (decoded, codec, map) = decode("base64", &body, start).unwrap();
            prop_assert_eq!(&decoded, &bytes);
            prop_assert_eq!(map, None);
            if !zipped {
                prop_assert_eq!(codec.encode(&decoded), Some(body));
            }
            let (decoded, codec, _) = decode(encoding, &bytes, start).unwrap();
            prop_assert_eq!(&decoded, &bytes);
            prop_assert_eq!(codec.encode(&decoded), Some(bytes));
        }

        /// Every span of a body taken as written maps inside the body.
        #[test]
        fn spans_map_inside_the_body(
            body in proptest::collection::vec(any::<u8>(), 0..48),
            encoding in proptest::sample::select(AS_WRITTEN),
            start in 0usize..64,
        ) {
            let (decoded, _, map) = decode(encoding, &body, start).unwrap();
            let host = HostSpan::new(start, start + body.len());
            prop_assert_eq!(spans_inside(&map.unwrap(), decoded.len(), host), Ok(()));
        }
    }

    #[test]
    fn base64_that_does_not_decode_is_refused() {
        assert!(decode("base64", b"curl http://169.254.169.254/", 0).is_none());
    }

    /// Not decoded: a quoted-printable body is read as written (`=3D` stays `=3D`, a soft line
    /// break `=` stays), so a script sent that way is analysed in its encoded spelling.
    #[test]
    fn quoted_printable_is_read_as_written() {
        let body = b"curl -s http://169.254.169.254/latest/meta-data/?a=3Db=\r\nc\r\n";
        let (decoded, codec, _) = decode("quoted-printable", body, 0).unwrap();
        assert_eq!(decoded, body);
        assert_eq!(codec, Codec::Verbatim);
    }
}
