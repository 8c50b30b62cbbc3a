//! The frames every client sends and expects, encoded once.

use anyhow::{bail, Result};
use client::protocol::{encode, write_utf, MAX_FRAME_PAYLOAD};

/// The frames every client sends and expects, encoded once.
pub(super) struct Frames {
    pub(super) request: Vec<u8>,
    pub(super) reply: Vec<u8>,
    pub(super) exit: Vec<u8>,
}

/// What the server adds to a message to make its reply.
const REPLY_SUFFIX: &str = " World!";

impl Frames {
    /// The frames for `message`, or why it cannot be sent: `exit` ends the
    /// session instead of getting a reply, and the message and its reply
    /// must each fit in one frame.
    pub(super) fn new(message: &str) -> Result<Frames> {
        if message == "exit" {
            bail!("the message \"exit\" ends the session instead of getting a reply: choose another");
        }
        let most = MAX_FRAME_PAYLOAD - REPLY_SUFFIX.len();
        let message_len = encode(message).len();
        if message_len > MAX_FRAME_PAYLOAD {
            bail!(
                "the message is {message_len} bytes encoded, more than one frame carries \
                 ({MAX_FRAME_PAYLOAD}), and its reply would be longer still: send at most {most} bytes"
            );
        }
        // The suffix is ASCII: one byte per character in any encoding.
        let reply_len = message_len + REPLY_SUFFIX.len();
        if reply_len > MAX_FRAME_PAYLOAD {
            bail!(
                "the reply to this message (the message and \"{REPLY_SUFFIX}\") would be {reply_len} \
                 bytes encoded, more than one frame carries ({MAX_FRAME_PAYLOAD}): send at most {most} \
                 bytes"
            );
        }
        Ok(Frames {
            request: frame(message),
            reply: frame(&format!("{message}{REPLY_SUFFIX}")),
            exit: frame("exit"),
        })
    }
}

/// The bytes `write_utf` would send for `message`, whose length
/// [`Frames::new`] has checked.
fn frame(message: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_utf(&mut bytes, message).expect("a checked length fits in a frame, and a Vec takes any write");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_too_long_for_a_frame_is_refused_as_the_reply() {
        let most = "a".repeat(MAX_FRAME_PAYLOAD - REPLY_SUFFIX.len());
        assert_eq!(Frames::new(&most).unwrap().reply.len(), 2 + MAX_FRAME_PAYLOAD);
        let error = Frames::new(&format!("{most}a")).err().unwrap().to_string();
        assert!(
            error.starts_with("the reply to this message") && error.contains("65536 bytes encoded"),
            "{error}"
        );
        // Measured encoded: a NUL is two bytes in modified UTF-8.
        let error = Frames::new(&"\0".repeat(32_765)).err().unwrap().to_string();
        assert!(error.contains("would be 65537 bytes"), "{error}");
        let error = Frames::new(&"a".repeat(70_000)).err().unwrap().to_string();
        assert!(error.starts_with("the message is 70000 bytes encoded"), "{error}");
        let error = Frames::new("exit").err().unwrap().to_string();
        assert!(error.contains("ends the session"), "{error}");
    }
}
