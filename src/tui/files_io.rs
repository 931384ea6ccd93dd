//! The IO behind the files tab: listings, completions and file operations
//! on the panes' sides, the transfer queue, and editing in $EDITOR. Every
//! answer goes back to the loop as a message; nothing here blocks it.

use tokio::sync::mpsc;

use crate::app::Msg;
use crate::app::files::state::Side;
use crate::app::msg::{FileOp, Listing, TransferAction, TransferRequest};
use std::collections::HashSet;

use crate::engine::files::fs::{FileSystem, LocalFs, RemoteFs, join};
use crate::engine::files::name::Name;
use crate::engine::files::queue::{JobView, QueueJob, Relay, TransferQueue};
use crate::engine::{HostId, HostLink};

use crate::engine::files::edit_session::{self, EditSession};

/// What background work hands back to the loop.
pub enum Back {
    Msg(Msg),
    /// A file is ready to edit: the loop gives the terminal to $EDITOR.
    Edit(EditSession),
}

pub struct FilesIo {
    links: Vec<HostLink>,
    queue: TransferQueue,
    back: mpsc::UnboundedSender<Back>,
}

impl FilesIo {
    pub fn new(
        links: Vec<HostLink>,
        back: mpsc::UnboundedSender<Back>,
    ) -> (FilesIo, mpsc::UnboundedReceiver<JobView>) {
        let (queue, views) = TransferQueue::new();
        (FilesIo { links, queue, back }, views)
    }

    fn link(&self, h: usize) -> Option<HostLink> {
        self.links.get(h).cloned()
    }

    pub fn list(
        &self,
        pane: usize,
        side: Side,
        hosts: &[usize],
        dir: Option<String>,
        request: u64,
    ) {
        let link = hosts.first().and_then(|&h| self.link(h));
        let back = self.back.clone();
        tokio::spawn(async move {
            let from = (side == Side::Selected)
                .then(|| link.as_ref().map(|l| l.label.clone()))
                .flatten();
            let result = with_fs(side, link, |fs| {
                Box::pin(async move {
                    // The home is asked for only when starting there (a pane
                    // that changes side starts over), not on every listing:
                    // over a WAN each request is a round trip.
                    let (dir, home) = match dir {
                        Some(d) => (d, None),
                        None => {
                            let h = fs.home().await.map_err(|e| e.to_string())?;
                            (h.clone(), Some(h))
                        }
                    };
                    let listed = fs.list(&dir).await.map_err(|e| e.to_string())?;
                    Ok(Listing {
                        dir,
                        entries: listed.entries,
                        refused: listed.refused.len(),
                        from,
                        home,
                    })
                })
            })
            .await;
            let _ = back.send(Back::Msg(Msg::Listed {
                pane,
                request,
                result,
            }));
        });
    }

    pub fn complete(&self, pane: usize, side: Side, hosts: &[usize], partial: String) {
        let link = hosts.first().and_then(|&h| self.link(h));
        let back = self.back.clone();
        tokio::spawn(async move {
            let (dir, base) = match partial.rfind('/') {
                Some(0) => ("/".to_string(), partial[1..].to_string()),
                Some(i) => (partial[..i].to_string(), partial[i + 1..].to_string()),
                None => (".".to_string(), partial.clone()),
            };
            let found = with_fs(side, link, |fs| {
                Box::pin(async move { fs.list(&dir).await.map_err(|e| e.to_string()) })
            })
            .await
            .unwrap_or_default();
            let mut candidates: Vec<String> = found
                .entries
                .into_iter()
                .filter(|e| e.is_dir_like() && e.name.starts_with(&base))
                .filter(|e| base.starts_with('.') || !e.name.starts_with('.'))
                .map(|e| e.name.as_str().to_string())
                .collect();
            candidates.sort();
            let _ = back.send(Back::Msg(Msg::Completions { pane, candidates }));
        });
    }

    pub fn file_op(&self, side: Side, hosts: &[usize], op: FileOp) {
        let links: Vec<Option<HostLink>> = match side {
            Side::Local => vec![None],
            _ => hosts.iter().map(|&h| self.link(h)).collect(),
        };
        let back = self.back.clone();
        tokio::spawn(async move {
            let what = describe(&op);
            let runs = links.into_iter().map(|link| {
                let op = op.clone();
                let label = link
                    .as_ref()
                    .map_or_else(|| "local".to_string(), |l| l.label.clone());
                async move {
                    let r = with_fs(side, link, |fs| {
                        Box::pin(async move { run_op(fs, &op).await })
                    })
                    .await;
                    (label, r)
                }
            });
            let results = futures::future::join_all(runs).await;
            let failed: Vec<String> = results
                .iter()
                .filter_map(|(l, r)| r.as_ref().err().map(|e| format!("{l}: {e}")))
                .collect();
            let skipped: Vec<String> = results
                .iter()
                .filter_map(|(l, r)| match r {
                    Ok(names) if !names.is_empty() => Some(format!(
                        "{l}: {} not there, skipped",
                        names
                            .iter()
                            .map(|n| n.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    _ => None,
                })
                .collect();
            let mut message = if failed.is_empty() {
                format!("{what}: done on {}", plural_hosts(results.len(), side))
            } else {
                format!(
                    "{what}: failed on {} of {}: {}",
                    failed.len(),
                    results.len(),
                    failed.join("; ")
                )
            };
            if !skipped.is_empty() {
                message = format!("{message}; {}", skipped.join("; "));
            }
            let _ = back.send(Back::Msg(Msg::FileOpDone { message }));
        });
    }

    pub fn transfer(&self, req: TransferRequest) {
        let hosts = req.hosts.iter().filter_map(|&h| self.link(h)).collect();
        let relay = match req.relay_from {
            // The sources are paths on that host: without it there is
            // nothing to copy (never read them as local paths).
            Some(h) => match self
                .link(h)
                .ok_or_else(|| std::io::Error::other("the source host is gone"))
                .and_then(|from| Relay::new(from, req.spec.sources.clone()))
            {
                Ok(r) => Some(r),
                Err(e) => {
                    let _ = self.back.send(Back::Msg(Msg::Status(format!(
                        "{}: cannot start: {e}",
                        req.title
                    ))));
                    return;
                }
            },
            None => None,
        };
        self.queue.submit(QueueJob {
            title: req.title,
            spec: req.spec,
            hosts,
            remove_sources: req.remove_sources,
            relay,
        });
    }

    pub fn control(&self, id: u64, action: TransferAction) {
        match action {
            TransferAction::Pause => self.queue.pause(id),
            TransferAction::Resume => self.queue.resume(id),
            TransferAction::Cancel => self.queue.cancel(id),
            TransferAction::Forget => self.queue.forget(id),
        }
    }

    /// Fetch a file to edit; the loop gets `Back::Edit` when it is ready.
    pub fn start_edit(&self, host: Option<usize>, path: String) {
        let link = host.and_then(|h| self.link(h));
        let back = self.back.clone();
        tokio::spawn(async move {
            match edit_session::prepare(link, path).await {
                Ok(session) => {
                    let _ = back.send(Back::Edit(session));
                }
                Err(e) => {
                    let _ = back.send(Back::Msg(Msg::Status(format!("cannot edit: {e}"))));
                }
            }
        });
    }

    /// After $EDITOR: upload the new version unless the host's copy changed
    /// meanwhile (then the edited copy is kept and its path reported).
    pub fn finish_edit(&self, mut session: EditSession, editor: Result<(), String>) {
        let back = self.back.clone();
        tokio::spawn(async move {
            let message = match editor {
                Err(e) => format!("editor failed: {e}"),
                Ok(()) => match session.finish().await {
                    Ok(m) => m,
                    Err(e) => e,
                },
            };
            let _ = back.send(Back::Msg(Msg::FileOpDone { message }));
        });
    }
}

fn plural_hosts(n: usize, side: Side) -> String {
    match side {
        Side::Local => "local".into(),
        _ if n == 1 => "1 host".into(),
        _ => format!("{n} hosts"),
    }
}

fn describe(op: &FileOp) -> String {
    match op {
        FileOp::Mkdir { name, .. } => format!("mkdir {name}"),
        FileOp::Rename { from, to, .. } => format!("rename {from} → {to}"),
        FileOp::Chmod { names, mode, .. } => format!(
            "chmod {mode:o} on {}",
            crate::text::count(names.len(), "item", "items")
        ),
        FileOp::Delete { names, .. } => format!(
            "delete {}",
            crate::text::count(names.len(), "item", "items")
        ),
    }
}

/// Run `op` on one side. The names came from one host's listing; each
/// side acts only on the names its own listing of the directory holds
/// (on the selected hosts, another host's name is never looked up by
/// itself), and answers with the names it lacked.
async fn run_op(fs: &dyn FileSystem, op: &FileOp) -> Result<Vec<Name>, String> {
    let dir = op.dir();
    let wanted = op.listed_names();
    let here: HashSet<Name> = if wanted.is_empty() {
        HashSet::new()
    } else {
        let listed = fs.list(dir).await.map_err(|e| e.to_string())?;
        listed.entries.into_iter().map(|e| e.name).collect()
    };
    let missing: Vec<Name> = wanted
        .into_iter()
        .filter(|n| !here.contains(*n))
        .cloned()
        .collect();
    let todo = |names: &[Name]| -> Vec<String> {
        names
            .iter()
            .filter(|n| here.contains(*n))
            .map(|n| join(dir, n))
            .collect()
    };
    let r = match op {
        FileOp::Mkdir { name, .. } => fs.mkdir(&join(dir, name)).await,
        FileOp::Rename { from, to, .. } if here.contains(from) => {
            fs.rename(&join(dir, from), &join(dir, to)).await
        }
        FileOp::Rename { .. } => Ok(()),
        FileOp::Chmod { names, mode, .. } => {
            for p in todo(names) {
                fs.chmod(&p, *mode).await.map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        FileOp::Delete { names, .. } => {
            for p in todo(names) {
                fs.remove_all(&p).await.map_err(|e| e.to_string())?;
            }
            Ok(())
        }
    };
    r.map(|()| missing).map_err(|e| e.to_string())
}

/// Run `f` with the side's file system: local, or the host's SFTP session.
async fn with_fs<T>(
    side: Side,
    link: Option<HostLink>,
    f: impl for<'a> FnOnce(&'a dyn FileSystem) -> futures::future::BoxFuture<'a, Result<T, String>>,
) -> Result<T, String> {
    // Map the FsError-returning closures' errors to strings at the edge.
    match (side, link) {
        (Side::Local, _) => f(&LocalFs).await,
        (_, Some(link)) => {
            let sftp = link.sftp().await.map_err(|e| e.to_string())?;
            let fs = RemoteFs { sftp };
            f(&fs).await
        }
        (_, None) => Err("no host for this pane".into()),
    }
}

/// Run $VISUAL / $EDITOR (vi if neither is set) on `path`, waiting for it.
pub fn run_editor(path: &std::path::Path) -> Result<(), String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    // Like git: the variable may hold arguments ("code -w"), so a shell runs it.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path)
        .status()
        .map_err(|e| format!("cannot start {editor}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{editor} exited with {status}"))
    }
}

/// Host ids for the links the runner keeps.
pub fn links(engine: &crate::engine::Engine, n: usize) -> Vec<HostLink> {
    (0..n).map(|i| engine.link(HostId(i))).collect()
}
