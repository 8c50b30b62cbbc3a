//! Many at once: several clients connect together; how many are served,
//! and where the kernel holds the others.

use std::time::{Duration, Instant};

use super::answer::{answer_within, seconds, Answer, ReplyRule};
use super::target::Target;
use super::{EXIT, HELLO, REPLY_WITHIN};
use crate::examine::{Check, CheckName};
use crate::kernel::{self, PortView, Stage, Table};
use crate::peer::Peer;

/// What `clients` clients connected at once got.
#[derive(Debug)]
pub struct ManyAtOnce {
    /// How many clients were to connect.
    pub clients: usize,
    /// How many connected (the kernel finished their handshakes).
    pub connected: usize,
    /// Why the next one could not connect, if one could not.
    pub connect_error: Option<String>,
    /// How many were answered while all stayed connected: the sessions the
    /// server held at once.
    pub at_once: usize,
    /// How long they waited for their replies.
    pub waited: Duration,
    /// How long a reply was awaited before its client counted as not
    /// answered.
    pub silence: Duration,
    /// The first answer that was not the right reply, if any.
    pub first_unanswered: Option<Answer>,
    /// Of those not answered, what the kernel shows: the accept queue, and
    /// their bytes unread (`None` where the server is not on this machine).
    pub queued: Option<Held>,
    /// How many bytes each client sent.
    pub sent: usize,
    /// The ports of the clients not answered at once, in the order they
    /// connected.
    pub waiting: Vec<u16>,
    /// Of those not answered at once, how many were answered as the others
    /// left, each leaving once answered.
    pub later: usize,
}

/// Many at once: `clients` clients connect, each sends [`HELLO`], and all
/// stay connected: how many are answered within `silence`? Those that are
/// not: where the kernel holds them; then the answered ones leave, and the
/// others are awaited one after another, each leaving once answered.
///
/// ```
/// use std::time::Duration;
/// use socket_lesson::examine::scenarios::{self, ReplyRule, Target};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let target = Target::local(listener.local_addr()?.port());
/// std::thread::spawn(move || server_v3::serve(listener, &Default::default()));
/// let many = scenarios::many_at_once(&target, 10, &ReplyRule::lesson(), Duration::from_secs(5));
/// assert_eq!(many.at_once, 10); // a thread per client
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn many_at_once(target: &Target, clients: usize, rule: &ReplyRule, silence: Duration) -> ManyAtOnce {
    let expected = rule.reply_to(HELLO);
    let mut peers = Vec::with_capacity(clients);
    let mut connect_error = None;
    let mut sent = 0;
    for _ in 0..clients {
        match target.connect() {
            Ok(mut peer) => match peer.send(HELLO) {
                Ok(bytes) => {
                    sent = bytes;
                    peers.push(peer);
                }
                Err(error) => {
                    connect_error = Some(format!("cannot send: {error}"));
                    break;
                }
            },
            Err(error) => {
                connect_error = Some(error.to_string());
                break;
            }
        }
    }
    let connected = peers.len();

    // The replies that come while everyone stays connected.
    let started = Instant::now();
    let deadline = started + silence;
    let mut answered = Vec::new();
    let mut waiting = Vec::new();
    let mut first_unanswered = None;
    for mut peer in peers {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        match answer_within(&mut peer, left) {
            Answer::Reply(reply) if reply == expected => answered.push(peer),
            answer => {
                if first_unanswered.is_none() {
                    first_unanswered = Some(answer);
                }
                waiting.push(peer);
            }
        }
    }
    let waited = started.elapsed();
    let at_once = answered.len();

    let waiting_ports = waiting.iter().map(Peer::port).collect();
    let queued = match waiting.is_empty() {
        true => None,
        false => count_held(target, &waiting, sent),
    };

    // The answered leave; are the others served then, in turn?
    for mut peer in answered.drain(..) {
        let _ = peer.send(EXIT);
    }
    let mut later = 0;
    let deadline = Instant::now() + REPLY_WITHIN;
    for mut peer in waiting {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        if answer_within(&mut peer, left).reply() == Some(expected.as_str()) {
            later += 1;
            let _ = peer.send(EXIT);
        }
    }
    ManyAtOnce {
        clients,
        connected,
        connect_error,
        at_once,
        waited,
        silence,
        first_unanswered,
        queued,
        sent,
        waiting: waiting_ports,
        later,
    }
}

/// What the kernel showed of the clients not answered at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// How many finished handshakes wait in the accept queue, as the kernel
    /// counts them; `None` where it does not say.
    pub in_queue: Option<u32>,
    /// How many of the clients not answered have their bytes unread in the
    /// server's receive buffer; `None` where the system does not report
    /// unread bytes.
    pub unread: Option<usize>,
    /// How many of the clients not answered the kernel shows in the queue,
    /// held by no process; `None` where the system does not say which
    /// connections are accepted.
    pub not_accepted: Option<usize>,
}

/// What the kernel shows of the clients in `waiting`, each of which sent
/// `sent` bytes: read again until each one's bytes are seen, at most
/// [`REPLY_WITHIN`]. `None` when the server is not on this machine.
fn count_held(target: &Target, waiting: &[Peer], sent: usize) -> Option<Held> {
    if !target.here {
        return None;
    }
    let ports: Vec<u16> = waiting.iter().map(Peer::port).collect();
    let sent = u32::try_from(sent).unwrap_or(u32::MAX);
    let held = |table: &Table| {
        let view = PortView::of(table, target.port(), kernel::SOURCE);
        let in_queue = view
            .listeners
            .iter()
            .map(|listener| listener.queue.waiting)
            .sum::<Option<u32>>();
        let unread = kernel::SOURCE.reports_queues.then(|| {
            ports
                .iter()
                .filter(|&&port| {
                    view.connection(port)
                        .is_some_and(|c| c.server_unread == Some(sent))
                })
                .count()
        });
        let not_accepted = kernel::SOURCE.reports_accepted.then(|| {
            ports
                .iter()
                .filter(|&&port| view.connection(port).is_some_and(|c| c.stage == Stage::Queued))
                .count()
        });
        Held {
            in_queue,
            unread,
            not_accepted,
        }
    };
    let all_seen = |held: &Held| held.unread.is_none_or(|unread| unread == ports.len());
    match kernel::wait_for(REPLY_WITHIN, |table| Some(held(table)).filter(all_seen)).ok()? {
        Some(found) => Some(found),
        None => kernel::read_table().ok().map(|table| held(&table)),
    }
}

impl ManyAtOnce {
    /// Whether every client connected and was answered while all stayed
    /// connected.
    pub fn all_at_once(&self) -> bool {
        self.connected == self.clients && self.at_once == self.clients
    }

    /// How many were not answered at once.
    pub fn not_at_once(&self) -> usize {
        self.connected - self.at_once
    }

    /// The check: every client is answered at once.
    pub fn check(&self) -> Check {
        let mut evidence = format!(
            "{} clients connected at once and each sent \"Hello\" ({} bytes)",
            self.connected, self.sent
        );
        if let Some(error) = &self.connect_error {
            evidence = format!(
                "of {} clients, {} connected and sent \"Hello\"; the next could not: {error}",
                self.clients, self.connected
            );
        }
        if self.not_at_once() == 0 {
            evidence += &format!(
                ": all {} were answered within {} while all stayed connected",
                self.connected,
                seconds(self.waited)
            );
        } else {
            let not = match &self.first_unanswered {
                Some(Answer::Nothing(_)) | None => format!("got no reply within {}", seconds(self.silence)),
                Some(answer) => format!("did not get their reply (the first got {answer})"),
            };
            evidence += &format!(
                ": {} were answered while all stayed connected; the other {} {not}",
                self.at_once,
                self.not_at_once(),
            );
            let rest = self.not_at_once();
            match self.queued {
                Some(held) => {
                    let mut facts = vec![match held.in_queue {
                        Some(waiting) => format!("the accept queue holds {waiting}"),
                        None => format!("{} does not report the accept queue", kernel::SOURCE.system),
                    }];
                    if let Some(queued) = held.not_accepted {
                        facts.push(format!("{queued} of the {rest} are in it, held by no process"));
                    }
                    if let Some(unread) = held.unread {
                        facts.push(format!(
                            "{unread} of the {rest} hold their {} bytes unread in the server's receive buffer",
                            self.sent
                        ));
                    }
                    evidence += &format!("; the kernel: {}", facts.join(", "));
                }
                None => evidence += "; the kernel's view of the server is not available here",
            }
            evidence += &format!(
                "; as the answered ones left, {} of the {} were answered in turn",
                self.later,
                self.not_at_once()
            );
        }
        Check::new(CheckName::ManyAtOnce, self.all_at_once(), evidence)
    }
}
