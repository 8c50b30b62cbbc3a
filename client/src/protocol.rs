//! The lesson's wire format: Java's `DataOutputStream.writeUTF` and
//! `DataInputStream.readUTF`, byte for byte.
//!
//! A frame is a 2-byte unsigned big-endian length followed by that many bytes of
//! Java's *modified UTF-8*:
//!
//! ```text
//! "Hello"  ->  00 05  48 65 6C 6C 6F
//!              ^^^^^  ^^^^^^^^^^^^^^
//!              length payload
//! ```
//!
//! Modified UTF-8 is UTF-8 with two changes, both inherited from Java's UTF-16
//! strings:
//! - NUL (U+0000) is written as the two bytes `C0 80`, never as a raw `00`;
//! - a character beyond U+FFFF is written as its UTF-16 surrogate pair, three
//!   bytes per surrogate: 😀 (U+1F600) is `ED A0 BD ED B8 80`, not UTF-8's
//!   four bytes `F0 9F 98 80`.
//!
//! Reading follows the JDK's `readUTF` exactly: it also accepts a raw `00` and
//! the overlong 2- and 3-byte forms (`C1 81` is `A`), and it rejects a byte
//! that cannot start a character (`80`–`BF`, `F0`–`FF`, so raw 4-byte UTF-8 is
//! refused), a missing continuation byte, and a character cut short by the end
//! of the frame.
//!
//! Where Rust text and Java strings differ: a Java `String` is any sequence of
//! UTF-16 code units, so Java can send a lone surrogate (`"\uD83D"` encodes to
//! `ED A0 BD`). That is not a character, so it is not Rust text: [`decode`]
//! refuses it with [`DecodeError::UnpairedSurrogate`] rather than invent a
//! replacement. Every Rust `&str` can be sent to Java.
//!
//! [`write_utf`] and [`read_utf`] do the I/O on a blocking stream. A program
//! that does its own (an async one, say) uses the frame's bytes alone:
//! [`encode_utf`] makes a frame to write, and [`payload_len`] and
//! [`decode_utf`] read one back from its length and its payload.
//!
//! # Example
//!
//! ```
//! use client::protocol::{read_utf, write_utf};
//!
//! let mut wire = Vec::new();
//! write_utf(&mut wire, "Hi\0😀")?;
//! assert_eq!(wire, [0x00, 0x0A, b'H', b'i', 0xC0, 0x80, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]);
//!
//! let mut reader = &wire[..];
//! assert_eq!(read_utf(&mut reader)?.as_deref(), Some("Hi\0😀"));
//! assert_eq!(read_utf(&mut reader)?, None); // a clean end between messages
//! # Ok::<(), client::protocol::ProtocolError>(())
//! ```

use std::borrow::Cow;
use std::io::{self, BufRead, Write};

use byteorder::{BigEndian, ByteOrder, WriteBytesExt};

/// The most payload bytes one frame can carry: the length is a `u16`.
pub const MAX_FRAME_PAYLOAD: usize = u16::MAX as usize;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The peer closed the connection after sending part of a frame.
    #[error("connection closed in the middle of a message")]
    ClosedMidMessage,
    /// The payload is not modified UTF-8 that makes Rust text.
    #[error("invalid message: {0}")]
    Invalid(DecodeError),
    /// The message needs more than [`MAX_FRAME_PAYLOAD`] bytes; nothing was
    /// written (Java throws `UTFDataFormatException` here).
    #[error("message too long for one frame: {len} bytes encoded, at most 65535")]
    TooLong {
        /// The encoded length the message would need.
        len: usize,
    },
    /// The connection itself failed (reset, timed out, ...).
    #[error(transparent)]
    Io(#[from] io::Error),
}

// Not `#[from]`: that would also make the `DecodeError` the error's source,
// and an error chain printed on one line would say the reason twice.
impl From<DecodeError> for ProtocolError {
    fn from(error: DecodeError) -> ProtocolError {
        ProtocolError::Invalid(error)
    }
}

/// Why a payload is not a message: each case mirrors a refusal of the JDK's
/// `readUTF`, except [`UnpairedSurrogate`](DecodeError::UnpairedSurrogate),
/// which Java accepts but Rust text cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A byte that cannot begin a character: `80`–`BF` or `F0`–`FF`.
    #[error("byte {byte:#04X} at offset {offset} cannot start a character")]
    BadLeadByte {
        /// The offending byte.
        byte: u8,
        /// Its position in the payload.
        offset: usize,
    },
    /// A 2- or 3-byte character whose next byte is not `10xxxxxx`.
    #[error("byte {byte:#04X} at offset {offset} should continue a character")]
    BadContinuation {
        /// The offending byte.
        byte: u8,
        /// Its position in the payload.
        offset: usize,
    },
    /// The payload ends inside a character.
    #[error("the message ends in the middle of a character (at offset {offset})")]
    Truncated {
        /// Where the cut character starts.
        offset: usize,
    },
    /// A surrogate code unit without its partner.
    #[error("unpaired surrogate U+{unit:04X}: Java allows it in a string, Rust text does not")]
    UnpairedSurrogate {
        /// The UTF-16 code unit.
        unit: u16,
    },
}

/// Writes `message` as one frame, in one `write` call, and flushes.
///
/// The length and the payload go out together ([`encode_utf`] makes them
/// one buffer): written separately, the small length segment could sit in
/// the kernel waiting for an ACK (Nagle's algorithm) that the peer delays,
/// costing 40 ms per message.
///
/// A message longer than [`MAX_FRAME_PAYLOAD`] encoded bytes is refused with
/// [`ProtocolError::TooLong`] and nothing is written.
///
/// ```
/// let mut wire = Vec::new();
/// client::protocol::write_utf(&mut wire, "안녕")?;
/// assert_eq!(wire, [0x00, 0x06, 0xEC, 0x95, 0x88, 0xEB, 0x85, 0x95]);
/// # Ok::<(), client::protocol::ProtocolError>(())
/// ```
pub fn write_utf<W: Write>(writer: &mut W, message: &str) -> Result<(), ProtocolError> {
    let frame = encode_utf(message)?;
    writer.write_all(&frame)?;
    writer.flush()?;
    Ok(())
}

/// The bytes of `message`'s frame, the length then the payload, as
/// [`write_utf`] sends them: what a program that does its own I/O (an async
/// one, say) writes with one call.
///
/// A message longer than [`MAX_FRAME_PAYLOAD`] encoded bytes is refused with
/// [`ProtocolError::TooLong`].
///
/// ```
/// use client::protocol::{encode_utf, ProtocolError, MAX_FRAME_PAYLOAD};
///
/// assert_eq!(encode_utf("Hi")?, [0x00, 0x02, b'H', b'i']);
/// assert!(matches!(
///     encode_utf(&"a".repeat(MAX_FRAME_PAYLOAD + 1)),
///     Err(ProtocolError::TooLong { len: 65_536 })
/// ));
/// # Ok::<(), ProtocolError>(())
/// ```
pub fn encode_utf(message: &str) -> Result<Vec<u8>, ProtocolError> {
    let payload = encode(message);
    let Ok(len) = u16::try_from(payload.len()) else {
        return Err(ProtocolError::TooLong { len: payload.len() });
    };
    let mut frame = Vec::with_capacity(LENGTH_BYTES + payload.len());
    frame.write_u16::<BigEndian>(len)?;
    frame.extend_from_slice(&payload);
    Ok(frame)
}

/// How many bytes a frame's length takes: the first bytes of every frame.
pub const LENGTH_BYTES: usize = 2;

/// How many payload bytes follow a frame's length, read from its
/// [`LENGTH_BYTES`] bytes (a big-endian `u16`).
///
/// ```
/// assert_eq!(client::protocol::payload_len([0x00, 0x05]), 5);
/// assert_eq!(client::protocol::payload_len([0x01, 0x00]), 256);
/// ```
pub fn payload_len(length: [u8; LENGTH_BYTES]) -> usize {
    usize::from(BigEndian::read_u16(&length))
}

/// The message of a frame whose payload has been read whole: [`decode`],
/// with its refusal as a [`ProtocolError`], as [`read_utf`] returns it. For
/// a program that reads the length and the payload itself (an async one,
/// say): [`payload_len`] says how many bytes to read.
///
/// ```
/// use client::protocol::{decode_utf, payload_len, ProtocolError};
///
/// let wire = [0x00, 0x02, b'H', b'i'];
/// let len = payload_len([wire[0], wire[1]]);
/// assert_eq!(decode_utf(wire[2..2 + len].to_vec())?, "Hi");
/// assert!(matches!(decode_utf(vec![0xFF]), Err(ProtocolError::Invalid(_))));
/// # Ok::<(), ProtocolError>(())
/// ```
pub fn decode_utf(payload: Vec<u8>) -> Result<String, ProtocolError> {
    Ok(decode(payload)?)
}

/// Reads one frame and returns its message, or `None` if the peer closed the
/// connection cleanly between messages.
///
/// On a socket this blocks until a whole frame has arrived. Give it a
/// buffered reader (`BufReader`) so a small frame costs one `read` system
/// call, not two. A connection that ends inside a frame is
/// [`ProtocolError::ClosedMidMessage`].
///
/// ```
/// use client::protocol::{read_utf, ProtocolError};
///
/// let mut whole = &[0x00, 0x02, b'H', b'i'][..];
/// assert_eq!(read_utf(&mut whole)?.as_deref(), Some("Hi"));
///
/// let mut cut = &[0x00, 0x05, b'H', b'i'][..];
/// assert!(matches!(read_utf(&mut cut), Err(ProtocolError::ClosedMidMessage)));
/// # Ok::<(), ProtocolError>(())
/// ```
pub fn read_utf<R: BufRead>(reader: &mut R) -> Result<Option<String>, ProtocolError> {
    // Nothing buffered and nothing more to come: the peer closed between messages.
    if reader.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let mut length = [0; LENGTH_BYTES];
    reader.read_exact(&mut length).map_err(ProtocolError::reading)?;
    let mut payload = vec![0; payload_len(length)];
    reader.read_exact(&mut payload).map_err(ProtocolError::reading)?;
    Ok(Some(decode_utf(payload)?))
}

impl ProtocolError {
    /// A failed read inside a frame, as a protocol error: the end of the
    /// stream there (`UnexpectedEof`, as `read_exact` says it) is the peer's
    /// doing, [`ProtocolError::ClosedMidMessage`]; anything else is the
    /// connection's, [`ProtocolError::Io`].
    ///
    /// ```
    /// use std::io::{Error, ErrorKind};
    /// use client::protocol::ProtocolError;
    ///
    /// let cut = ProtocolError::reading(Error::from(ErrorKind::UnexpectedEof));
    /// assert!(matches!(cut, ProtocolError::ClosedMidMessage));
    /// let reset = ProtocolError::reading(Error::from(ErrorKind::ConnectionReset));
    /// assert!(matches!(reset, ProtocolError::Io(_)));
    /// ```
    pub fn reading(error: io::Error) -> ProtocolError {
        if error.kind() == io::ErrorKind::UnexpectedEof {
            ProtocolError::ClosedMidMessage
        } else {
            ProtocolError::Io(error)
        }
    }

    /// This error in words, naming the peer, `peer`, where the peer did it:
    /// a reset is said as what it is, the same on every system (`the client
    /// reset the connection (RST)`), rather than in each system's own words
    /// ("Connection reset by peer (os error 104)" on Linux, "... (os error
    /// 10054)" on Windows); any other error as it displays itself.
    ///
    /// ```
    /// use std::io::{Error, ErrorKind};
    /// use client::protocol::ProtocolError;
    ///
    /// let reset = ProtocolError::Io(Error::from(ErrorKind::ConnectionReset));
    /// assert_eq!(reset.describe("client"), "the client reset the connection (RST)");
    /// let cut = ProtocolError::ClosedMidMessage;
    /// assert_eq!(cut.describe("client"), "connection closed in the middle of a message");
    /// ```
    pub fn describe(&self, peer: &str) -> String {
        match self {
            ProtocolError::Io(error) if error.kind() == io::ErrorKind::ConnectionReset => {
                format!("the {peer} reset the connection (RST)")
            }
            error => error.to_string(),
        }
    }
}

/// How many bytes [`write_utf`] sends for `message`: the 2-byte length and
/// the encoded payload.
///
/// ```
/// assert_eq!(client::protocol::frame_len("Hello"), 7);
/// assert_eq!(client::protocol::frame_len("\0"), 4); // NUL takes two bytes
/// ```
pub fn frame_len(message: &str) -> usize {
    LENGTH_BYTES + encode(message).len()
}

/// Encodes `text` as Java's modified UTF-8 (the payload of a frame, without
/// the length).
///
/// Text without NUL and without characters beyond U+FFFF is borrowed as it is:
/// there the two encodings agree byte for byte.
///
/// ```
/// use client::protocol::encode;
///
/// assert_eq!(&*encode("abc"), b"abc");
/// assert_eq!(&*encode("\0"), [0xC0, 0x80]);
/// assert_eq!(&*encode("😀"), [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]);
/// ```
pub fn encode(text: &str) -> Cow<'_, [u8]> {
    if !text.bytes().any(|byte| byte == 0 || byte >= 0xF0) {
        return Cow::Borrowed(text.as_bytes());
    }
    // Java writes UTF-16 code units, each in 1, 2 or 3 bytes.
    let mut bytes = Vec::with_capacity(text.len() + 2);
    for unit in text.encode_utf16() {
        match unit {
            0x0001..=0x007F => bytes.push(unit as u8),
            0x0000 | 0x0080..=0x07FF => {
                bytes.extend_from_slice(&[0xC0 | (unit >> 6) as u8, 0x80 | (unit & 0x3F) as u8]);
            }
            _ => bytes.extend_from_slice(&[
                0xE0 | (unit >> 12) as u8,
                0x80 | ((unit >> 6) & 0x3F) as u8,
                0x80 | (unit & 0x3F) as u8,
            ]),
        }
    }
    Cow::Owned(bytes)
}

/// Decodes a frame's payload the way the JDK's `readUTF` does, into Rust text.
///
/// Valid UTF-8 without 4-byte sequences means the same text in both
/// encodings, so such a payload becomes the `String` without a copy; anything
/// else is decoded by Java's rules, code unit by code unit.
///
/// ```
/// use client::protocol::{decode, DecodeError};
///
/// assert_eq!(decode(vec![0xC0, 0x80]).as_deref(), Ok("\0"));
/// assert_eq!(decode(vec![0xC1, 0x81]).as_deref(), Ok("A")); // overlong, as Java allows
/// assert_eq!(
///     decode(vec![0xF0, 0x9F, 0x98, 0x80]), // raw 4-byte UTF-8, as Java refuses
///     Err(DecodeError::BadLeadByte { byte: 0xF0, offset: 0 }),
/// );
/// ```
pub fn decode(payload: Vec<u8>) -> Result<String, DecodeError> {
    if !payload.iter().any(|&byte| byte >= 0xF0) {
        match String::from_utf8(payload) {
            Ok(text) => return Ok(text),
            Err(not_utf8) => return decode_java(not_utf8.as_bytes()),
        }
    }
    decode_java(&payload)
}

/// The JDK's `readUTF` loop: each character is 1, 2 or 3 bytes, chosen by the
/// high bits of its first byte, and gives one UTF-16 code unit.
fn decode_java(bytes: &[u8]) -> Result<String, DecodeError> {
    let mut units = Vec::with_capacity(bytes.len());
    let mut offset = 0;
    while offset < bytes.len() {
        let lead = bytes[offset];
        let width = match lead >> 4 {
            0x0..=0x7 => 1, // 0xxxxxxx
            0xC | 0xD => 2, // 110xxxxx 10xxxxxx
            0xE => 3,       // 1110xxxx 10xxxxxx 10xxxxxx
            _ => return Err(DecodeError::BadLeadByte { byte: lead, offset }),
        };
        let Some(sequence) = bytes.get(offset..offset + width) else {
            return Err(DecodeError::Truncated { offset });
        };
        let mut unit = u16::from(lead) & [0x7F, 0x1F, 0x0F][width - 1];
        for (position, &byte) in sequence.iter().enumerate().skip(1) {
            if byte & 0xC0 != 0x80 {
                return Err(DecodeError::BadContinuation {
                    byte,
                    offset: offset + position,
                });
            }
            unit = (unit << 6) | u16::from(byte & 0x3F);
        }
        units.push(unit);
        offset += width;
    }
    char::decode_utf16(units)
        .map(|decoded| {
            decoded.map_err(|lone| DecodeError::UnpairedSurrogate {
                unit: lone.unpaired_surrogate(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole frame `write_utf` puts on the wire for `message`.
    fn frame(message: &str) -> Vec<u8> {
        let mut wire = Vec::new();
        write_utf(&mut wire, message).expect("writing to a Vec cannot fail");
        wire
    }

    fn read_one(wire: &[u8]) -> Result<Option<String>, ProtocolError> {
        read_utf(&mut &wire[..])
    }

    #[test]
    fn golden_frames() {
        let cases: &[(&str, &[u8])] = &[
            ("Hello", &[0x00, 0x05, b'H', b'e', b'l', b'l', b'o']),
            ("", &[0x00, 0x00]),
            ("\0", &[0x00, 0x02, 0xC0, 0x80]),
            ("a\0b", &[0x00, 0x04, b'a', 0xC0, 0x80, b'b']),
            ("é", &[0x00, 0x02, 0xC3, 0xA9]),
            ("안녕", &[0x00, 0x06, 0xEC, 0x95, 0x88, 0xEB, 0x85, 0x95]),
            ("😀", &[0x00, 0x06, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
            ("\u{FFFF}", &[0x00, 0x03, 0xEF, 0xBF, 0xBF]),
        ];
        for &(message, wire) in cases {
            assert_eq!(frame(message), wire, "encoding {message:?}");
            assert_eq!(
                read_one(wire).unwrap().as_deref(),
                Some(message),
                "decoding {wire:02X?}"
            );
        }
    }

    #[test]
    fn the_65535_byte_boundary() {
        let largest = "a".repeat(MAX_FRAME_PAYLOAD);
        let wire = frame(&largest);
        assert_eq!(wire.len(), 2 + MAX_FRAME_PAYLOAD);
        assert_eq!(&wire[..3], [0xFF, 0xFF, b'a']);
        assert_eq!(read_one(&wire).unwrap().as_deref(), Some(largest.as_str()));

        // One byte more, here because NUL takes two: refused, and nothing written.
        let one_past = format!("{}\0", "a".repeat(MAX_FRAME_PAYLOAD - 1));
        let mut wire = Vec::new();
        let refused = write_utf(&mut wire, &one_past);
        assert!(
            matches!(refused, Err(ProtocolError::TooLong { len: 65_536 })),
            "{refused:?}"
        );
        assert!(wire.is_empty(), "a refused message must write nothing");
    }

    #[test]
    fn clean_close_and_closed_mid_message_differ() {
        assert!(matches!(read_one(&[]), Ok(None)));
        for cut in [&[0x00][..], &[0x00, 0x05], &[0x00, 0x05, b'H', b'i']] {
            assert!(
                matches!(read_one(cut), Err(ProtocolError::ClosedMidMessage)),
                "{cut:02X?}"
            );
        }
    }

    #[test]
    fn reads_what_the_jdk_tolerates() {
        assert_eq!(decode(vec![b'a', 0x00, b'b']).as_deref(), Ok("a\0b")); // a raw NUL
        assert_eq!(decode(vec![0xC1, 0x81]).as_deref(), Ok("A")); // overlong 2-byte
        assert_eq!(decode(vec![0xE0, 0x80, 0x80]).as_deref(), Ok("\0")); // overlong 3-byte
        assert_eq!(decode(vec![0xE0, 0x81, 0x81]).as_deref(), Ok("A"));
    }

    #[test]
    fn refuses_what_the_jdk_refuses() {
        let cases: &[(&[u8], DecodeError)] = &[
            (
                &[0xFF],
                DecodeError::BadLeadByte {
                    byte: 0xFF,
                    offset: 0,
                },
            ),
            (
                &[b'a', 0x80],
                DecodeError::BadLeadByte {
                    byte: 0x80,
                    offset: 1,
                },
            ),
            (
                &[0xF0, 0x9F, 0x98, 0x80],
                DecodeError::BadLeadByte {
                    byte: 0xF0,
                    offset: 0,
                },
            ),
            (&[0xC3], DecodeError::Truncated { offset: 0 }),
            (&[b'x', 0xEC, 0x95], DecodeError::Truncated { offset: 1 }),
            (
                &[0xC3, b'a'],
                DecodeError::BadContinuation {
                    byte: b'a',
                    offset: 1,
                },
            ),
            (
                &[0xEC, 0x95, 0xC0],
                DecodeError::BadContinuation {
                    byte: 0xC0,
                    offset: 2,
                },
            ),
            (
                &[0xED, 0xA0, 0xBD],
                DecodeError::UnpairedSurrogate { unit: 0xD83D },
            ),
            (
                &[0xED, 0xB8, 0x80, b'a'],
                DecodeError::UnpairedSurrogate { unit: 0xDE00 },
            ),
        ];
        for (payload, expected) in cases {
            assert_eq!(decode(payload.to_vec()).as_ref(), Err(expected), "{payload:02X?}");
        }
    }

    #[test]
    fn invalid_payload_in_a_frame_is_an_invalid_message() {
        let error = read_one(&[0x00, 0x01, 0xFF]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid message: byte 0xFF at offset 0 cannot start a character"
        );
    }

    #[test]
    fn agrees_with_simd_cesu8_on_ordinary_text() {
        for text in [
            "",
            "Hello World!",
            "a\0b",
            "안녕하세요",
            "😀 and 𝄞",
            "é\u{7FF}\u{800}\u{FFFF}",
        ] {
            assert_eq!(*encode(text), *simd_cesu8::mutf8::encode(text), "{text:?}");
            let payload = simd_cesu8::mutf8::encode(text).into_owned();
            assert_eq!(decode(payload).as_deref(), Ok(text));
        }
    }

    #[test]
    fn a_frame_arriving_in_pieces_is_read_whole() {
        // A BufReader with a 1-byte buffer sees the frame one byte at a time,
        // as a slow network might deliver it.
        let wire = [frame("안녕"), frame("😀")].concat();
        let mut reader = io::BufReader::with_capacity(1, &wire[..]);
        assert_eq!(read_utf(&mut reader).unwrap().as_deref(), Some("안녕"));
        assert_eq!(read_utf(&mut reader).unwrap().as_deref(), Some("😀"));
        assert!(read_utf(&mut reader).unwrap().is_none());
    }
}
