//! What the learner types at the lab's prompt, and what each typo gets: one
//! line naming the right form.

use client::text::shown;

/// A call the learner asks the lab to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `accept`: take the next connection from the queue.
    Accept,
    /// `read N`: read one message from socket N.
    Read(usize),
    /// `write N TEXT`: send TEXT as one message on socket N.
    Write(usize, String),
    /// `close N`: close socket N.
    Close(usize),
    /// `show`: draw the picture.
    Show,
    /// `help`: list the commands.
    Help,
    /// `quit`: end the lab.
    Quit,
}

/// The commands, one a line, for `help` and for the start.
pub const HELP: &str = "\
accept          take the next connection from the backlog queue (blocks while it is empty)
read N          read one message from socket N (blocks while its receive buffer is empty)
write N TEXT    send TEXT as one message on socket N
close N         close socket N
show            draw the picture: the queue, the server's sockets, the clients
help            this list
quit            end the lab (Ctrl-D too)
N numbers the sockets in the order accept() returned them: 1, 2, ...";

/// Parses one line: `Ok(None)` for a blank line, `Err` with one line for a
/// mistake.
pub fn parse(line: &str) -> Result<Option<Command>, String> {
    let line = line.trim();
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim_start();
    let nothing_after = |command: Command, name: &str| {
        if rest.is_empty() {
            Ok(Some(command))
        } else {
            Err(format!("{name} takes nothing after it: type just `{name}`"))
        }
    };
    match word {
        "" => Ok(None),
        "accept" => nothing_after(Command::Accept, "accept"),
        "show" => nothing_after(Command::Show, "show"),
        "help" | "?" => nothing_after(Command::Help, "help"),
        "quit" | "exit" => nothing_after(Command::Quit, "quit"),
        "read" => Ok(Some(Command::Read(only_number(rest, "read N")?))),
        "close" => Ok(Some(Command::Close(only_number(rest, "close N")?))),
        "write" => {
            let (number, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let number = socket_number(number, "write N TEXT")?;
            if text.is_empty() {
                return Err("write needs the text to send: write N TEXT".to_string());
            }
            Ok(Some(Command::Write(number, text.to_string())))
        }
        // What was typed is shown escaped: a stray escape key would
        // otherwise reach the terminal again.
        other => Err(format!(
            "unknown command `{}`: type accept, read N, write N TEXT, close N, show, help or quit",
            shown(other)
        )),
    }
}

/// `rest` as a socket number and nothing else.
fn only_number(rest: &str, form: &str) -> Result<usize, String> {
    match rest.split_once(char::is_whitespace) {
        Some(_) => Err(format!("too much after the socket's number: {form}")),
        None => socket_number(rest, form),
    }
}

/// A socket's number: 1, 2, ...
fn socket_number(word: &str, form: &str) -> Result<usize, String> {
    let name = form.split(' ').next().unwrap_or(form);
    if word.is_empty() {
        return Err(format!("{name} needs a socket's number: {form}"));
    }
    match word.parse::<usize>() {
        Ok(number) if number >= 1 => Ok(number),
        _ => Err(format!(
            "`{}` is not a socket's number: {form}, where N is 1, 2, ... in the order accept() returned them",
            shown(word)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_is_read() {
        assert_eq!(parse("accept"), Ok(Some(Command::Accept)));
        assert_eq!(parse("  read 2 "), Ok(Some(Command::Read(2))));
        assert_eq!(
            parse("write 1 Hello,  world "),
            Ok(Some(Command::Write(1, "Hello,  world".to_string())))
        );
        assert_eq!(parse("close 3"), Ok(Some(Command::Close(3))));
        assert_eq!(parse("show"), Ok(Some(Command::Show)));
        assert_eq!(parse("quit"), Ok(Some(Command::Quit)));
        assert_eq!(parse(""), Ok(None));
    }

    #[test]
    fn each_mistake_names_the_right_form() {
        for (typed, says) in [
            ("acept", "unknown command `acept`: type accept, read N"),
            ("read", "read needs a socket's number: read N"),
            ("read x", "`x` is not a socket's number: read N, where N is 1, 2"),
            ("read 0", "`0` is not a socket's number"),
            ("read 1 2", "too much after the socket's number: read N"),
            ("write 1", "write needs the text to send: write N TEXT"),
            ("write", "write needs a socket's number: write N TEXT"),
            ("close", "close needs a socket's number: close N"),
            ("accept now", "accept takes nothing after it: type just `accept`"),
            ("\x1b[31mred\x07", "unknown command `\\u{1b}[31mred\\u{7}`"),
            ("read \x1b", "`\\u{1b}` is not a socket's number"),
        ] {
            let error = parse(typed).unwrap_err();
            assert!(error.starts_with(says), "{typed:?} gave {error:?}");
            assert!(!error.contains('\n'), "one line: {error:?}");
        }
    }
}
