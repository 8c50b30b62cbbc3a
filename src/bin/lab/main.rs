//! lab: the server's system calls, made by hand.
//!
//! It listens, and then does nothing until you type a call: `accept`,
//! `read N`, `write N TEXT`, `close N`. After each call it says what the
//! call returned and draws the port's picture from the kernel's table, so
//! that each moment of the lesson can be made to happen and seen: clients
//! connecting with no `accept()`, a message waiting in the receive buffer of
//! a connection no program holds, `accept()` taking the oldest connection,
//! `accept()` and `read()` blocking.
//!
//! It speaks the lesson's frame (`client::protocol`), so `client-v2` and the
//! Java clients talk to it.

mod command;
mod interrupt;
mod watcher;

use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use client::protocol::{payload_len, read_utf, write_utf, ProtocolError, LENGTH_BYTES, MAX_FRAME_PAYLOAD};
use client::text::shown;
use log::info;
use socket_lesson::kernel;
use socket_lesson::picture::{self, Known, Picture};
use socket_lesson::term::{self, Style};
use socket_lesson::Lang;

use command::{Command, HELP};
use watcher::Watcher;

/// Writes a line of the lab's own text to `out`, wrapped at spaces to the
/// terminal's width (unwrapped when the output is not a terminal).
macro_rules! say {
    ($out:expr, $($text:tt)*) => {
        writeln!($out, "{}", wrapped(&format!($($text)*)))
    };
}

/// `text` wrapped to the terminal's width, or as it is when the output is
/// not a terminal. A line of a two-column list (`read N          read one
/// message…`) goes on under its second column.
fn wrapped(text: &str) -> String {
    let Some(columns) = term::width() else {
        return text.to_string();
    };
    let mut lines = Vec::new();
    for line in text.lines() {
        let second_column = line
            .find("  ")
            .and_then(|gap| line[gap..].find(|c: char| c != ' ').map(|start| gap + start))
            .filter(|&start| start < columns / 2);
        let indent = " ".repeat(second_column.unwrap_or(0));
        lines.extend(term::wrap_hanging(line, columns, "", &indent));
    }
    lines.join("\n")
}

/// Listens, then makes the server's system calls as you type them (accept,
/// read, write, close) and draws the port's picture from the kernel after
/// each one.
#[derive(Parser)]
#[command(name = "lab", version)]
struct Args {
    #[command(flatten)]
    listen: client::cli::ListenArgs,
    /// Draw the picture's boxes with ASCII characters (+-|).
    #[arg(long)]
    ascii: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::logging::init(false);
    client::cli::finish("lab", run(&args))
}

fn run(args: &Args) -> Result<()> {
    let listener = args.listen.listen()?;
    let address = listener.local_addr()?;
    info!("listening on {address}");
    interrupt::install()?;
    let mut lab = Lab {
        watcher: Watcher::start(address.port()),
        listener,
        sockets: Vec::new(),
        style: Style::for_stdout(args.ascii),
        out: client::cli::stdout(),
    };
    say!(
        lab.out,
        "The server socket listens; the kernel completes clients' handshakes by itself and \
         queues them. Nothing is accepted until you type accept.\n{HELP}"
    )?;
    lab.show()?;

    let mut input = Input::new()?;
    while let Some(line) = input.next_line()? {
        match command::parse(&line) {
            Ok(None) => {}
            Ok(Some(Command::Quit)) => break,
            Ok(Some(command)) => lab.call(command)?,
            Err(mistake) => say!(lab.out, "{mistake}")?,
        }
    }
    Ok(())
}

/// The server socket, the sockets `accept()` returned, and what draws them.
struct Lab {
    listener: TcpListener,
    /// Socket N is `sockets[N - 1]`; `None` once closed, so that numbers
    /// stay as `accept()` gave them.
    sockets: Vec<Option<Accepted>>,
    watcher: Watcher,
    style: Style,
    out: client::cli::Output<io::StdoutLock<'static>>,
}

/// A socket `accept()` returned.
struct Accepted {
    socket: TcpStream,
    client: SocketAddr,
    /// Reads frames one byte of buffer at a time: a `BufReader` passes any
    /// larger read straight to the socket, so `read_utf` takes exactly one
    /// frame and leaves the rest in the kernel, where the picture shows it.
    input: BufReader<Counted>,
    /// Whether a call on it found the connection reset: closing it then
    /// sends nothing, neither FIN nor RST.
    reset: bool,
}

/// The socket as `read_utf` reads it, counting the bytes it takes from the
/// kernel: a frame's size is what was read, not what its text would take
/// to write again (a modified UTF-8 form such as `C0 80` or an overlong
/// `C1 81` decodes to text written back shorter).
struct Counted {
    socket: TcpStream,
    taken: u64,
}

impl io::Read for Counted {
    /// Through [`interrupt::read`]: Ctrl-C interrupts a read that waits, at
    /// the start of a frame or in its middle.
    fn read(&mut self, bytes: &mut [u8]) -> io::Result<usize> {
        let count = interrupt::read(&self.socket, bytes)?;
        self.taken += count as u64;
        Ok(count)
    }
}

impl Lab {
    /// Makes one call, says what it returned, and draws the picture.
    fn call(&mut self, command: Command) -> Result<()> {
        // A command naming a socket that is not there makes no call: it is
        // told why, and there is nothing new to draw.
        if let Command::Read(number) | Command::Write(number, _) | Command::Close(number) = command
            && let Err(why) = find(&self.sockets, number)
        {
            say!(self.out, "{why}")?;
            return Ok(());
        }
        match command {
            Command::Accept => self.accept()?,
            Command::Read(number) => self.read(number)?,
            Command::Write(number, text) => self.write(number, &text)?,
            Command::Close(number) => self.close(number)?,
            Command::Show => {}
            Command::Help => {
                say!(self.out, "{HELP}")?;
                return Ok(());
            }
            Command::Quit => return Ok(()),
        }
        Ok(self.show()?)
    }

    fn accept(&mut self) -> io::Result<()> {
        // Asked first without blocking, to say so before it blocks.
        self.listener.set_nonblocking(true)?;
        let at_once = self.listener.accept();
        self.listener.set_nonblocking(false)?;
        let accepted = match at_once {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                // Ctrl-C is the lab's from before it says so: a person who
                // presses it on reading the line interrupts the call.
                let ctrl_c = interrupt::Catching::start()?;
                say!(
                    self.out,
                    "blocked in accept(): no finished handshake in the queue; connect a client from \
                     another terminal (Ctrl-C stops waiting)"
                )?;
                self.out.flush()?;
                interrupt::accept(&self.listener, &ctrl_c)
            }
            other => other,
        };
        match accepted {
            Ok((socket, client)) => {
                let counted = Counted {
                    socket: socket.try_clone()?,
                    taken: 0,
                };
                self.sockets.push(Some(Accepted {
                    socket,
                    client,
                    input: BufReader::with_capacity(1, counted),
                    reset: false,
                }));
                say!(
                    self.out,
                    "accept() returned socket {}, connected to {client}",
                    self.sockets.len()
                )
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => say!(
                self.out,
                "accept() was interrupted (Ctrl-C): nothing was taken from the queue"
            ),
            Err(error) => say!(self.out, "accept() failed: {error}"),
        }
    }

    fn read(&mut self, number: usize) -> io::Result<()> {
        let accepted = self.sockets[number - 1].as_mut().expect(FOUND_IN_CALL);
        // Ctrl-C is the lab's for the whole frame, from before it says it
        // blocks (see `accept`): the read may wait at the frame's start, or
        // in its middle, for a rest that never comes.
        let _ctrl_c = interrupt::Catching::start()?;
        // Looked at first without blocking, to say so before it blocks.
        if let Some(held) = waits_for(&accepted.socket, number)? {
            say!(self.out, "blocked in read(): {held} (Ctrl-C stops waiting)")?;
            self.out.flush()?;
        }
        let taken_before = accepted.input.get_ref().taken;
        let read = read_utf(&mut accepted.input);
        let taken = accepted.input.get_ref().taken - taken_before;
        if matches!(&read, Err(ProtocolError::Io(error)) if error.kind() == io::ErrorKind::ConnectionReset) {
            accepted.reset = true;
        }
        match read {
            Err(ProtocolError::Io(error)) if interrupt::is_ctrl_c(&error) => match taken {
                0 => say!(self.out, "read() was interrupted (Ctrl-C): nothing was read"),
                // read_utf() keeps no part of a frame: what it took is gone.
                _ => say!(
                    self.out,
                    "read() was interrupted (Ctrl-C) in the middle of a frame: {taken} bytes were \
                     taken from socket {number}'s receive buffer, and are lost; the next read \
                     starts inside the frame"
                ),
            },
            Ok(Some(message)) => say!(
                self.out,
                "read_utf() returned \"{}\": {taken} bytes taken from socket {number}'s receive buffer",
                shown(&message)
            ),
            Ok(None) => say!(
                self.out,
                "read_utf() returned the end of the stream: the client closed its side; `close \
                 {number}` closes this one"
            ),
            Err(error) => say!(self.out, "read_utf() failed: {error}"),
        }
    }

    fn write(&mut self, number: usize, text: &str) -> io::Result<()> {
        let accepted = self.sockets[number - 1].as_ref().expect(FOUND_IN_CALL);
        let mut socket = &accepted.socket;
        match write_utf(&mut socket, text) {
            Ok(()) => say!(
                self.out,
                "write_utf() returned: {} bytes (the 2-byte length and the message) handed to the \
                 kernel, to send to {}",
                client::protocol::frame_len(text),
                accepted.client
            ),
            Err(error) => {
                if matches!(&error, ProtocolError::Io(cause) if cause.kind() == io::ErrorKind::ConnectionReset)
                {
                    self.sockets[number - 1].as_mut().expect(FOUND_IN_CALL).reset = true;
                }
                say!(self.out, "write_utf() failed: {error}")
            }
        }
    }

    fn close(&mut self, number: usize) -> io::Result<()> {
        let accepted = self.sockets[number - 1].as_ref().expect(FOUND_IN_CALL);
        // A connection the kernel has dropped (a reset came: some systems
        // report it to a read, Linux to no one, but its row leaves the
        // table) has no one left to say goodbye to.
        let view = kernel::read_port(self.listener.local_addr()?.port())?;
        let connection = view.connections().find(|c| c.client == accepted.client);
        let already_reset = accepted.reset || connection.is_none();
        // Bytes still unread when a socket closes make the kernel reset the
        // connection instead of closing it in order: as many as the kernel
        // counts where the system reports it, else as many as one look
        // without taking them sees.
        let unread = match connection.and_then(|c| c.server_unread) {
            Some(unread) => u64::from(unread),
            None => {
                accepted.socket.set_nonblocking(true)?;
                accepted.socket.peek(&mut [0u8; 65_536]).unwrap_or(0) as u64
            }
        };
        // Dropping the socket (and its reader's copy) closes it.
        self.sockets[number - 1] = None;
        if already_reset {
            say!(
                self.out,
                "close() returned: socket {number} is closed; its connection had already been reset \
                 (RST), so the kernel sends nothing more"
            )
        } else if unread > 0 {
            say!(
                self.out,
                "close() returned: socket {number} is closed with {unread} bytes still unread in its \
                 receive buffer, so the kernel resets the connection (RST) instead of saying goodbye"
            )
        } else {
            say!(
                self.out,
                "close() returned: socket {number} is closed; the kernel says goodbye to the client \
                 (FIN), and the client's next read sees the end of the stream"
            )
        }
    }

    /// The picture of the port, with what the lab knows: its sockets'
    /// numbers, and the order in which it saw the queued ones arrive.
    fn show(&mut self) -> io::Result<()> {
        let port = self.listener.local_addr()?.port();
        let view = kernel::read_port(port)?;
        self.watcher.note(&view);
        let accepted: Vec<(usize, SocketAddr)> = self
            .sockets
            .iter()
            .enumerate()
            .filter_map(|(index, accepted)| accepted.as_ref().map(|a| (index + 1, a.client)))
            .collect();
        let taken: Vec<SocketAddr> = accepted.iter().map(|&(_, client)| client).collect();
        let known = Known {
            queue_order: self.watcher.arrival_order(&taken),
            accepted,
        };
        let columns = term::width().unwrap_or(picture::WIDTH);
        let picture = Picture::new(&view, &known, self.style, Lang::En)
            .fit(columns)
            .draw();
        write!(self.out, "{picture}")?;
        if let Some(line) = view.not_reported_line() {
            say!(self.out, "{line}")?;
        }
        // A blank line ends the picture, before the next call's output.
        writeln!(self.out)?;
        self.out.flush()
    }
}

/// Why `read`, `write` and `close` may take their socket as found: `call`
/// looks for it first, and makes no call when it is not there.
const FOUND_IN_CALL: &str = "the socket was found before the call";

/// Socket `number` of `sockets`, or why there is none, in one line.
/// What a read of socket `number` would wait for, as a peek that takes
/// nothing finds its receive buffer: empty, or holding only part of the
/// next frame. `None` when the read would return at once.
fn waits_for(socket: &TcpStream, number: usize) -> io::Result<Option<String>> {
    let mut frame = vec![0u8; LENGTH_BYTES + MAX_FRAME_PAYLOAD];
    socket.set_nonblocking(true)?;
    let peeked = socket.peek(&mut frame);
    socket.set_nonblocking(false)?;
    let held = match peeked {
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => 0,
        // The end of the stream, or an error: the read says which, at once.
        Ok(0) | Err(_) => return Ok(None),
        Ok(held) => held,
    };
    Ok(match held {
        0 => Some(format!(
            "socket {number}'s receive buffer is empty; send a message from its client"
        )),
        1 => Some(format!(
            "socket {number}'s receive buffer holds 1 byte, not yet the frame's 2-byte length; send \
             the rest from its client"
        )),
        _ => {
            let whole = LENGTH_BYTES + payload_len([frame[0], frame[1]]);
            (held < whole).then(|| {
                format!(
                    "socket {number}'s receive buffer holds {held} of the frame's {whole} bytes; send \
                     the rest from its client"
                )
            })
        }
    })
}

fn find(sockets: &[Option<Accepted>], number: usize) -> Result<&Accepted, String> {
    let count = sockets.len();
    match sockets.get(number - 1) {
        Some(Some(accepted)) => Ok(accepted),
        Some(None) => Err(format!("socket {number} is closed")),
        None if count == 0 => Err(format!(
            "there is no socket {number}: nothing accepted yet; type accept"
        )),
        None => Err(format!(
            "there is no socket {number}: accept() has returned {count} so far"
        )),
    }
}

/// Where commands come from: a line editor with history on a terminal, or
/// lines of standard input, without a prompt, when it is a pipe or a file
/// (so the lab can be scripted).
enum Input {
    Editor(Box<rustyline::DefaultEditor>),
    Lines(io::StdinLock<'static>),
}

impl Input {
    fn new() -> Result<Input> {
        if io::stdin().is_terminal() && io::stdout().is_terminal() {
            Ok(Input::Editor(Box::new(rustyline::DefaultEditor::new()?)))
        } else {
            Ok(Input::Lines(io::stdin().lock()))
        }
    }

    /// The next line, or `None` at the end of input (Ctrl-D).
    fn next_line(&mut self) -> Result<Option<String>> {
        match self {
            Input::Editor(editor) => loop {
                match editor.readline("lab> ") {
                    Ok(line) => {
                        let _ = editor.add_history_entry(line.as_str());
                        return Ok(Some(line));
                    }
                    // Ctrl-C at the prompt: nothing is blocked, so nothing to stop.
                    Err(rustyline::error::ReadlineError::Interrupted) => {
                        writeln!(
                            client::cli::stdout(),
                            "(nothing to interrupt: quit or Ctrl-D ends the lab)"
                        )?;
                    }
                    Err(rustyline::error::ReadlineError::Eof) => return Ok(None),
                    Err(error) => return Err(error.into()),
                }
            },
            Input::Lines(lines) => {
                let mut line = String::new();
                match lines.read_line(&mut line)? {
                    0 => Ok(None),
                    _ => Ok(Some(line)),
                }
            }
        }
    }
}
