//! The response body: its framing (`Content-Length`, chunked, until EOF)
//! and the bounded read.

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::head::Head;
use super::progress::Progress;
use super::{MAX_CHUNK_LINE, MAX_TRAILERS, READ_BUF, io_text, shown};
use crate::report::observation::FetchError;

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyKind {
    Empty,
    Length(u64),
    Chunked,
    ToEof,
}

pub(super) fn body_kind(head: &Head) -> Result<BodyKind, FetchError> {
    if head.code == 204 || head.code == 304 {
        return Ok(BodyKind::Empty);
    }
    let codings: Vec<String> = head
        .values("transfer-encoding")
        .flat_map(|v| v.split(','))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    if let Some(other) = codings.iter().find(|c| *c != "chunked" && *c != "identity") {
        return Err(FetchError::Io(format!(
            "unsupported transfer coding {}",
            shown(other)
        )));
    }
    if codings.last().is_some_and(|c| c == "chunked") {
        return Ok(BodyKind::Chunked);
    }
    if !codings.is_empty() {
        return Ok(BodyKind::ToEof);
    }
    let mut length = None;
    for part in head.values("content-length").flat_map(|v| v.split(',')) {
        let part = part.trim();
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FetchError::Io(format!(
                "malformed Content-Length {}",
                shown(part)
            )));
        }
        // All digits: only overflow can fail, and that is more than any cap.
        let n = part.parse::<u64>().unwrap_or(u64::MAX);
        match length {
            Some(m) if m != n => {
                return Err(FetchError::Io("conflicting Content-Length values".into()));
            }
            _ => length = Some(n),
        }
    }
    Ok(length.map_or(BodyKind::ToEof, BodyKind::Length))
}

pub(super) async fn read_body(
    stream: &mut TcpStream,
    already: Vec<u8>,
    kind: BodyKind,
    max: usize,
    progress: &mut Progress,
) -> Result<Vec<u8>, FetchError> {
    let mut tmp = vec![0u8; READ_BUF];
    let read_err =
        |e: std::io::Error| FetchError::Io(format!("reading the body failed: {}", io_text(&e)));
    match kind {
        BodyKind::Empty => Ok(Vec::new()),
        BodyKind::Length(n) => {
            // Announced too much: fail without reading any of it.
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n <= max)
                .ok_or(FetchError::TooLarge(max))?;
            progress.expected = Some(n);
            let mut body = already;
            body.truncate(n);
            body.reserve(n.saturating_sub(body.len()).min(1 << 20));
            while body.len() < n {
                progress.got = body.len();
                let k = stream.read(&mut tmp).await.map_err(read_err)?;
                if k == 0 {
                    return Err(FetchError::Io(format!(
                        "the connection closed after {} of {n} body bytes",
                        body.len()
                    )));
                }
                let take = k.min(n - body.len());
                body.extend_from_slice(tmp.get(..take).unwrap_or_default());
            }
            Ok(body)
        }
        BodyKind::ToEof => {
            let mut body = already;
            loop {
                progress.got = body.len();
                if body.len() > max {
                    return Err(FetchError::TooLarge(max));
                }
                let k = stream.read(&mut tmp).await.map_err(read_err)?;
                if k == 0 {
                    return Ok(body);
                }
                body.extend_from_slice(tmp.get(..k).unwrap_or_default());
            }
        }
        BodyKind::Chunked => {
            let mut decoder = Chunked::new(max);
            let mut body = Vec::new();
            let mut done = decoder.feed(&already, &mut body)?;
            while !done {
                progress.got = body.len();
                let k = stream.read(&mut tmp).await.map_err(read_err)?;
                if k == 0 {
                    return Err(FetchError::Io(format!(
                        "the connection closed in the middle of the chunked body (after {} bytes)",
                        body.len()
                    )));
                }
                done = decoder.feed(tmp.get(..k).unwrap_or_default(), &mut body)?;
            }
            Ok(body)
        }
    }
}

/// Incremental decoder for `Transfer-Encoding: chunked` (RFC 9112 §7.1).
/// Chunk sizes are checked against the cap before their data is read;
/// size lines and trailers are bounded; a bare LF is accepted for CRLF.
#[derive(Debug)]
pub(super) struct Chunked {
    state: ChunkState,
    max: usize,
    /// Bytes of the current chunk-size line.
    line: usize,
    /// Bytes of trailer fields.
    trailer: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// In a chunk-size line: the size so far, whether a hex digit was seen,
    /// whether in extensions (ignored), whether a CR was just seen.
    Size {
        size: u64,
        digits: bool,
        ext: bool,
        cr: bool,
    },
    /// In chunk data: bytes left.
    Data(u64),
    /// After chunk data: expecting CRLF.
    DataEnd {
        cr: bool,
    },
    /// After the last chunk: trailer lines until a blank one.
    Trailer {
        cr: bool,
        blank: bool,
    },
    Done,
}

const SIZE_START: ChunkState = ChunkState::Size {
    size: 0,
    digits: false,
    ext: false,
    cr: false,
};

impl Chunked {
    pub(super) fn new(max: usize) -> Self {
        Chunked {
            state: SIZE_START,
            max,
            line: 0,
            trailer: 0,
        }
    }

    /// Decode `input`, appending chunk data to `out`. `Ok(true)` once the
    /// last chunk and the trailers are complete; anything after is ignored.
    pub(super) fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<bool, FetchError> {
        let mut rest = input;
        while !rest.is_empty() {
            match self.state {
                ChunkState::Done => break,
                ChunkState::Data(left) => {
                    let take = usize::try_from(left).map_or(rest.len(), |l| l.min(rest.len()));
                    let (data, after) = rest.split_at(take);
                    out.extend_from_slice(data);
                    rest = after;
                    let left = left.saturating_sub(take as u64);
                    self.state = if left == 0 {
                        ChunkState::DataEnd { cr: false }
                    } else {
                        ChunkState::Data(left)
                    };
                }
                state => {
                    let Some((&b, after)) = rest.split_first() else {
                        break;
                    };
                    rest = after;
                    self.state = self.step(state, b, out.len())?;
                }
            }
        }
        Ok(self.state == ChunkState::Done)
    }

    fn step(&mut self, state: ChunkState, b: u8, have: usize) -> Result<ChunkState, FetchError> {
        let bad = |why: &str| FetchError::Io(format!("malformed chunked body: {why}"));
        Ok(match state {
            ChunkState::Size {
                size,
                digits,
                ext,
                cr,
            } => {
                self.line += 1;
                if self.line > MAX_CHUNK_LINE {
                    return Err(bad("chunk-size line too long"));
                }
                if cr && b != b'\n' {
                    return Err(bad("CR without LF in a chunk-size line"));
                }
                match b {
                    b'\n' if !digits => return Err(bad("missing chunk size")),
                    b'\n' => {
                        self.line = 0;
                        if size == 0 {
                            ChunkState::Trailer {
                                cr: false,
                                blank: true,
                            }
                        } else {
                            ChunkState::Data(size)
                        }
                    }
                    b'\r' => ChunkState::Size {
                        size,
                        digits,
                        ext,
                        cr: true,
                    },
                    _ if ext => state,
                    b';' | b' ' | b'\t' if digits => ChunkState::Size {
                        size,
                        digits,
                        ext: true,
                        cr,
                    },
                    _ => {
                        let d = char::from(b)
                            .to_digit(16)
                            .ok_or_else(|| bad("invalid chunk size"))?;
                        let allowed =
                            u64::try_from(self.max.saturating_sub(have)).unwrap_or(u64::MAX);
                        let size = size
                            .checked_mul(16)
                            .and_then(|s| s.checked_add(u64::from(d)))
                            .filter(|&s| s <= allowed)
                            .ok_or(FetchError::TooLarge(self.max))?;
                        ChunkState::Size {
                            size,
                            digits: true,
                            ext,
                            cr,
                        }
                    }
                }
            }
            ChunkState::DataEnd { cr } => match b {
                b'\r' if !cr => ChunkState::DataEnd { cr: true },
                b'\n' => SIZE_START,
                _ => return Err(bad("no CRLF after chunk data")),
            },
            ChunkState::Trailer { cr, blank } => {
                self.trailer += 1;
                if self.trailer > MAX_TRAILERS {
                    return Err(bad("trailers too long"));
                }
                match b {
                    b'\n' if blank => ChunkState::Done,
                    b'\n' => ChunkState::Trailer {
                        cr: false,
                        blank: true,
                    },
                    _ if cr => return Err(bad("CR without LF in the trailers")),
                    b'\r' => ChunkState::Trailer { cr: true, blank },
                    _ => ChunkState::Trailer {
                        cr: false,
                        blank: false,
                    },
                }
            }
            // Handled by `feed`.
            ChunkState::Data(_) | ChunkState::Done => state,
        })
    }
}
