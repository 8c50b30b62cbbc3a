//! Properties of `client::protocol`, checked on generated inputs against
//! reference implementations written here from Java's specification and the
//! JDK's source, deliberately in a different style from the module's code, so
//! that a shared mistake is unlikely.

use std::io::{self, BufReader, Read};

use client::protocol::{
    decode, decode_utf, encode, encode_utf, payload_len, read_utf, write_utf, DecodeError, ProtocolError,
    LENGTH_BYTES, MAX_FRAME_PAYLOAD,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

// ---------------------------------------------------------------------------
// Reference implementations
// ---------------------------------------------------------------------------

/// Java's `writeUTF` payload, straight from the rules in `DataOutput`'s
/// documentation: the string's UTF-16 code units (worked out here by hand,
/// not with `encode_utf16`), each in one, two or three bytes.
fn reference_encode(text: &str) -> Vec<u8> {
    let mut units: Vec<u32> = Vec::new();
    for character in text.chars() {
        let scalar = u32::from(character);
        if scalar < 0x1_0000 {
            units.push(scalar);
        } else {
            let offset = scalar - 0x1_0000;
            units.push(0xD800 + offset / 0x400);
            units.push(0xDC00 + offset % 0x400);
        }
    }
    let mut bytes = Vec::new();
    for unit in units {
        if (0x0001..=0x007F).contains(&unit) {
            bytes.push(unit as u8);
        } else if unit <= 0x07FF {
            // Also U+0000, which Java never writes as a raw zero byte.
            bytes.push(0b1100_0000 + (unit / 64) as u8);
            bytes.push(0b1000_0000 + (unit % 64) as u8);
        } else {
            bytes.push(0b1110_0000 + (unit / 4096) as u8);
            bytes.push(0b1000_0000 + (unit / 64 % 64) as u8);
            bytes.push(0b1000_0000 + (unit % 64) as u8);
        }
    }
    bytes
}

/// Why the reference decoder refused a payload, with the position of the
/// character it was reading.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    /// JDK: "malformed input around byte N" from the `default` branch.
    BadLead { at: usize },
    /// JDK: "malformed input around byte N" from a missing `10xxxxxx`.
    BadContinuation { character_at: usize },
    /// JDK: "malformed input: partial character at end".
    PartialAtEnd { character_at: usize },
    /// Java accepts it; Rust text cannot hold it.
    UnpairedSurrogate,
}

/// A line-by-line transcription of the JDK's `DataInputStream.readUTF`
/// (after the length is read), giving UTF-16 code units.
fn jdk_read_utf_units(bytearr: &[u8]) -> Result<Vec<u16>, Refusal> {
    let utflen = bytearr.len();
    let mut chararr: Vec<u16> = Vec::with_capacity(utflen);
    let mut count = 0usize;

    // The JDK's fast path for a run of ASCII.
    while count < utflen {
        let c = u32::from(bytearr[count]);
        if c > 127 {
            break;
        }
        count += 1;
        chararr.push(c as u16);
    }

    while count < utflen {
        let c = u32::from(bytearr[count]);
        match c >> 4 {
            0..=7 => {
                // 0xxxxxxx
                count += 1;
                chararr.push(c as u16);
            }
            12 | 13 => {
                // 110x xxxx   10xx xxxx
                count += 2;
                if count > utflen {
                    return Err(Refusal::PartialAtEnd {
                        character_at: count - 2,
                    });
                }
                let char2 = u32::from(bytearr[count - 1]);
                if (char2 & 0xC0) != 0x80 {
                    return Err(Refusal::BadContinuation {
                        character_at: count - 2,
                    });
                }
                chararr.push((((c & 0x1F) << 6) | (char2 & 0x3F)) as u16);
            }
            14 => {
                // 1110 xxxx  10xx xxxx  10xx xxxx
                count += 3;
                if count > utflen {
                    return Err(Refusal::PartialAtEnd {
                        character_at: count - 3,
                    });
                }
                let char2 = u32::from(bytearr[count - 2]);
                let char3 = u32::from(bytearr[count - 1]);
                if ((char2 & 0xC0) != 0x80) || ((char3 & 0xC0) != 0x80) {
                    return Err(Refusal::BadContinuation {
                        character_at: count - 3,
                    });
                }
                chararr.push((((c & 0x0F) << 12) | ((char2 & 0x3F) << 6) | (char3 & 0x3F)) as u16);
            }
            _ => {
                // 10xx xxxx,  1111 xxxx
                return Err(Refusal::BadLead { at: count });
            }
        }
    }
    Ok(chararr)
}

/// The JDK's `readUTF`, then the one rule Rust adds: every surrogate must be
/// the high half of a pair immediately followed by its low half.
fn reference_decode(payload: &[u8]) -> Result<String, Refusal> {
    let units = jdk_read_utf_units(payload)?;
    let mut text = String::new();
    let mut index = 0;
    while index < units.len() {
        let unit = u32::from(units[index]);
        let scalar = match unit {
            0xD800..=0xDBFF => match units.get(index + 1).map(|&next| u32::from(next)) {
                Some(low @ 0xDC00..=0xDFFF) => {
                    index += 1;
                    0x1_0000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                }
                _ => return Err(Refusal::UnpairedSurrogate),
            },
            0xDC00..=0xDFFF => return Err(Refusal::UnpairedSurrogate),
            _ => unit,
        };
        text.push(char::from_u32(scalar).expect("a non-surrogate scalar value"));
        index += 1;
    }
    Ok(text)
}

/// A reader that hands out at most one byte per `read`, as a slow network
/// might.
struct OneByteAtATime<'a> {
    rest: &'a [u8],
}

impl Read for OneByteAtATime<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.rest.split_first(), buf.first_mut()) {
            (Some((&byte, rest)), Some(slot)) => {
                *slot = byte;
                self.rest = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/// Characters at the edges of the encoding's 1-, 2- and 3-byte ranges, and
/// beyond U+FFFF where a surrogate pair is needed.
const EDGE_CHARACTERS: [char; 12] = [
    '\0',
    '\u{1}',
    '\u{7F}',
    '\u{80}',
    '\u{7FF}',
    '\u{800}',
    '\u{D7FF}',
    '\u{E000}',
    '\u{FFFF}',
    '\u{10000}',
    '😀',
    '\u{10FFFF}',
];

/// Any Rust text, with the edge characters (NUL above all) made common.
fn text() -> impl Strategy<Value = String> {
    let character = prop_oneof![
        3 => any::<char>(),
        1 => select(&EDGE_CHARACTERS[..]),
        1 => proptest::char::range('\0', '\u{7F}'),
    ];
    vec(character, 0..40).prop_map(String::from_iter)
}

/// Bytes that start, continue or break modified UTF-8 sequences: without them
/// uniformly random bytes would rarely form a multi-byte character.
const INTERESTING_BYTES: [u8; 14] = [
    0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xFF, 0xA0, 0xB8,
];

/// One well-formed 1-, 2- or 3-byte character of modified UTF-8, for an
/// arbitrary code unit: overlong forms, a raw `00`, and lone or paired
/// surrogates included, all of which `readUTF` reads.
fn well_formed_piece() -> impl Strategy<Value = Vec<u8>> {
    fn three_bytes(unit: u16) -> [u8; 3] {
        [
            0xE0 | (unit >> 12) as u8,
            0x80 | ((unit >> 6) & 0x3F) as u8,
            0x80 | (unit & 0x3F) as u8,
        ]
    }
    prop_oneof![
        2 => (0u8..0x80).prop_map(|byte| vec![byte]),
        1 => (0u16..0x800).prop_map(|unit| vec![0xC0 | (unit >> 6) as u8, 0x80 | (unit & 0x3F) as u8]),
        1 => any::<u16>().prop_map(|unit| three_bytes(unit).to_vec()),
        1 => (0xD800u16..0xDC00, 0xDC00u16..0xE000)
            .prop_map(|(high, low)| [three_bytes(high), three_bytes(low)].concat()),
    ]
}

/// Payloads of four kinds, so that acceptance and each refusal all occur
/// often: noise built from single bytes (biased toward the interesting ones)
/// mixed with well-formed characters; only well-formed characters;
/// well-formed characters with one byte overwritten by an interesting one;
/// and well-formed characters with the last byte or two cut off.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let noisy_piece = prop_oneof![
        4 => select(&INTERESTING_BYTES[..]).prop_map(|byte| vec![byte]),
        2 => any::<u8>().prop_map(|byte| vec![byte]),
        3 => well_formed_piece(),
    ];
    let noisy = vec(noisy_piece, 0..16).prop_map(|pieces| pieces.concat());
    let well_formed = vec(well_formed_piece(), 0..16).prop_map(|pieces| pieces.concat());
    let damaged = (
        vec(well_formed_piece(), 1..16),
        any::<prop::sample::Index>(),
        select(&INTERESTING_BYTES[..]),
    )
        .prop_map(|(pieces, position, byte)| {
            let mut bytes = pieces.concat();
            let at = position.index(bytes.len());
            bytes[at] = byte;
            bytes
        });
    let cut_short = (vec(well_formed_piece(), 1..16), 1..3usize).prop_map(|(pieces, cut)| {
        let mut bytes = pieces.concat();
        bytes.truncate(bytes.len().saturating_sub(cut));
        bytes
    });
    prop_oneof![3 => noisy, 3 => well_formed, 2 => damaged, 1 => cut_short]
}

/// The frame `write_utf` writes for `message`.
fn frame(message: &str) -> Vec<u8> {
    let mut wire = Vec::new();
    write_utf(&mut wire, message).expect("a short message fits in a frame");
    wire
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `encode` is Java's modified UTF-8, and a frame is its length then it.
    #[test]
    fn encoding_matches_the_reference(message in text()) {
        let expected = reference_encode(&message);
        prop_assert_eq!(&*encode(&message), &expected[..]);

        let wire = frame(&message);
        prop_assert_eq!(usize::from(u16::from_be_bytes([wire[0], wire[1]])), expected.len());
        prop_assert_eq!(&wire[2..], &expected[..]);
    }

    /// Every Rust string that fits in a frame comes back as itself.
    #[test]
    fn text_round_trips_through_a_frame(message in text()) {
        let wire = frame(&message);
        let mut reader = &wire[..];
        prop_assert_eq!(read_utf(&mut reader)?, Some(message.clone()));
        prop_assert!(reader.is_empty(), "one frame, read whole");
        prop_assert_eq!(read_utf(&mut reader)?, None);
    }

    /// Decoding never panics (a panic fails the case), and accepts exactly
    /// what the JDK's `readUTF` accepts as Rust text, with the same text; a
    /// refusal names the same fault at the same place.
    #[test]
    fn decoding_agrees_with_the_jdk(payload in payload()) {
        let ours = decode(payload.clone());
        let reference = reference_decode(&payload);
        match (&ours, &reference) {
            (Ok(text), Ok(expected)) => prop_assert_eq!(text, expected),
            (Err(DecodeError::BadLeadByte { byte, offset }), Err(Refusal::BadLead { at })) => {
                prop_assert_eq!(offset, at);
                prop_assert_eq!(*byte, payload[*offset]);
            }
            (Err(DecodeError::BadContinuation { byte, offset }), Err(Refusal::BadContinuation { character_at })) => {
                // The JDK names a position near the fault; the module names
                // the offending byte itself, inside the same character.
                prop_assert!((character_at + 1..character_at + 3).contains(offset), "{:?} vs {:?}", ours, reference);
                prop_assert_eq!(*byte, payload[*offset]);
                prop_assert_ne!(byte & 0xC0, 0x80);
            }
            (Err(DecodeError::Truncated { offset }), Err(Refusal::PartialAtEnd { character_at })) => {
                prop_assert_eq!(offset, character_at);
            }
            (Err(DecodeError::UnpairedSurrogate { unit }), Err(Refusal::UnpairedSurrogate)) => {
                prop_assert!((0xD800..=0xDFFF).contains(unit));
            }
            _ => prop_assert!(false, "payload {:02X?}: module {:?}, reference {:?}", payload, ours, reference),
        }

        // The same payload in a frame: the same verdict through read_utf.
        let mut wire = u16::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
        wire.extend_from_slice(&payload);
        match read_utf(&mut &wire[..]) {
            Ok(Some(text)) => prop_assert_eq!(Ok(text), reference),
            Err(ProtocolError::Invalid(_)) => prop_assert!(reference.is_err()),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    /// `encode_utf` is the frame `write_utf` writes, byte for byte: its
    /// length, which `payload_len` reads back, then the reference payload;
    /// and `decode_utf` gives the message back from that payload.
    #[test]
    fn encode_utf_is_the_written_frame_and_decode_utf_reads_it(message in text()) {
        let bytes = encode_utf(&message)?;
        prop_assert_eq!(&bytes, &frame(&message));
        let (length, payload) = bytes.split_at(LENGTH_BYTES);
        prop_assert_eq!(payload_len([length[0], length[1]]), payload.len());
        prop_assert_eq!(payload, &reference_encode(&message)[..]);
        prop_assert_eq!(decode_utf(payload.to_vec())?, message);
    }

    /// `payload_len` is the length as Java's `writeShort` puts it: high
    /// byte first.
    #[test]
    fn payload_len_reads_the_big_endian_length(length in any::<u16>()) {
        prop_assert_eq!(payload_len([(length >> 8) as u8, (length & 0xFF) as u8]), usize::from(length));
    }

    /// `decode_utf` gives the same verdict as `decode`, a refusal as
    /// `ProtocolError::Invalid` with the same reason.
    #[test]
    fn decode_utf_agrees_with_decode(payload in payload()) {
        match (decode_utf(payload.clone()), decode(payload)) {
            (Ok(ours), Ok(theirs)) => prop_assert_eq!(ours, theirs),
            (Err(ProtocolError::Invalid(ours)), Err(theirs)) => prop_assert_eq!(ours, theirs),
            (ours, theirs) => prop_assert!(false, "decode_utf {:?}, decode {:?}", ours, theirs),
        }
    }

    /// A stream of frames delivered one byte per `read` gives the same
    /// messages as the stream read whole, then a clean end.
    #[test]
    fn frames_read_one_byte_at_a_time(messages in vec(text(), 0..6)) {
        let wire: Vec<u8> = messages.iter().flat_map(|message| frame(message)).collect();

        let mut whole = &wire[..];
        let mut trickle = BufReader::with_capacity(1, OneByteAtATime { rest: &wire });
        for message in &messages {
            prop_assert_eq!(read_utf(&mut whole)?, Some(message.clone()));
            prop_assert_eq!(read_utf(&mut trickle)?, Some(message.clone()));
        }
        prop_assert_eq!(read_utf(&mut whole)?, None);
        prop_assert_eq!(read_utf(&mut trickle)?, None);
    }
}

proptest! {
    // Each case builds a message of about 64 KiB: fewer cases keep the run short.
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// At the 65,535-byte limit: a message that fits is written and read back;
    /// one that does not is refused with its encoded length, and nothing is
    /// written.
    #[test]
    fn the_frame_limit(padding in (MAX_FRAME_PAYLOAD - 48)..=MAX_FRAME_PAYLOAD, tail in text()) {
        let message = format!("{}{tail}", "a".repeat(padding));
        let encoded_len = reference_encode(&message).len();

        let mut wire = Vec::new();
        let encoded = encode_utf(&message);
        match write_utf(&mut wire, &message) {
            Ok(()) => {
                prop_assert!(encoded_len <= MAX_FRAME_PAYLOAD);
                prop_assert_eq!(wire.len(), 2 + encoded_len);
                prop_assert_eq!(read_utf(&mut &wire[..])?, Some(message));
                prop_assert_eq!(encoded?, wire);
            }
            Err(ProtocolError::TooLong { len }) => {
                prop_assert!(encoded_len > MAX_FRAME_PAYLOAD);
                prop_assert_eq!(len, encoded_len);
                prop_assert!(wire.is_empty(), "a refused message must write nothing");
                prop_assert!(matches!(encoded, Err(ProtocolError::TooLong { len }) if len == encoded_len), "{:?}", encoded);
            }
            Err(other) => prop_assert!(false, "{:?}", other),
        }
    }
}

/// The generators do reach the cases that matter: the properties above would
/// prove little if, say, no generated payload were ever valid, or no message
/// ever crossed the frame limit.
#[test]
fn the_generators_reach_every_verdict_and_both_sides_of_the_limit() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut tally = [0usize; 6];
    const NAMES: [&str; 6] = [
        "accepted, ASCII only",
        "accepted, with multi-byte characters",
        "bad lead byte",
        "bad continuation byte",
        "partial character at the end",
        "unpaired surrogate",
    ];
    for _ in 0..1000 {
        let payload = payload().new_tree(&mut runner).unwrap().current();
        let verdict = match reference_decode(&payload) {
            Ok(text) if text.is_ascii() => 0,
            Ok(_) => 1,
            Err(Refusal::BadLead { .. }) => 2,
            Err(Refusal::BadContinuation { .. }) => 3,
            Err(Refusal::PartialAtEnd { .. }) => 4,
            Err(Refusal::UnpairedSurrogate) => 5,
        };
        tally[verdict] += 1;
    }
    let report: Vec<String> = NAMES
        .iter()
        .zip(tally)
        .map(|(name, count)| format!("{name}: {count}"))
        .collect();
    assert!(tally.iter().all(|&count| count >= 25), "{report:?}");
    assert!(tally[1] >= 200, "{report:?}");

    let (mut fits, mut too_long) = (0, 0);
    for _ in 0..100 {
        let padding = ((MAX_FRAME_PAYLOAD - 48)..=MAX_FRAME_PAYLOAD)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let tail = text().new_tree(&mut runner).unwrap().current();
        if padding + reference_encode(&tail).len() <= MAX_FRAME_PAYLOAD {
            fits += 1;
        } else {
            too_long += 1;
        }
    }
    assert!(fits >= 10 && too_long >= 10, "fits {fits}, too long {too_long}");
}
