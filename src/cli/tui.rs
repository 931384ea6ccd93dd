//! Opening the TUI: on the inventory (`sshdeck`, `sshdeck tui SELECTOR`)
//! or on embedded demo hosts (`sshdeck demo`).

use std::io::IsTerminal;
use std::process::ExitCode;

use super::CliError;
use super::args::{GlobalArgs, HostSelection};
use super::setup;
use crate::demo::{DemoFarm, DemoLogin};
use crate::engine::{EngineConfig, HostKeyPolicy, Prompter, Target};
use crate::inventory::group_table::GroupClash;
use crate::text::sanitize::visible_name;
use crate::tui::{TuiSetup, run};

const DEFAULT_SCROLLBACK: usize = 10_000;

pub fn need_terminal() -> Result<(), CliError> {
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(CliError::BadArg(
            "the TUI needs a terminal; for scripts use `sshdeck run -H HOSTS -- COMMAND`".into(),
        ))
    }
}

fn io_err(what: &str) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |cause| CliError::Io {
        what: what.to_string(),
        cause,
    }
}

/// The TUI in this process (`--no-session`, or where sessions cannot
/// be: then `notice` says why).
pub async fn tui(
    g: &GlobalArgs,
    sel: &HostSelection,
    positional: Option<&str>,
    record: Option<std::path::PathBuf>,
    notice: Option<String>,
) -> Result<ExitCode, CliError> {
    need_terminal()?;
    let mut setup = tui_setup(g, sel, positional, record)?;
    setup.notice = notice.or(setup.notice);
    run(setup).await.map_err(io_err("terminal"))?;
    Ok(ExitCode::SUCCESS)
}

/// Everything the TUI starts from: the inventory read, the hosts chosen,
/// the config's facts, recipes and keys. Errors name file and line, before
/// any screen is taken over (or any session server started).
pub fn tui_setup(
    g: &GlobalArgs,
    sel: &HostSelection,
    positional: Option<&str>,
    record: Option<std::path::PathBuf>,
) -> Result<TuiSetup, CliError> {
    let mut setup = setup::prepare(g)?;
    let targets = setup::select(&setup.inventory, sel, positional, true)?;
    let selector = sel.hosts.as_deref().or(positional);
    let rows = setup.inventory.describe(&targets);
    let origins = rows.iter().map(origin_lines).collect();
    let hosts: Vec<(Target, Vec<String>)> = targets
        .into_iter()
        .zip(rows)
        .map(|(t, r)| (t, r.tags))
        .collect();
    let preselect = if selector.is_some() {
        (0..hosts.len()).collect()
    } else {
        Vec::new()
    };
    let d = &setup.inventory.config().defaults;
    let scrollback = d
        .scrollback
        .as_ref()
        .map_or(DEFAULT_SCROLLBACK, |s| *s.get_ref());
    // Every source's groups are folders; a group source that fails stops
    // here, before the screen is taken over, with its reason.
    let groups = setup.inventory.group_exprs()?;
    let notice = left_out_notice(setup.inventory.left_out())
        .or_else(|| clash_notice(setup.inventory.group_clashes()));
    let record = record.or_else(|| d.record_dir.clone());
    let config = setup.inventory.config();
    let (facts, columns, recipes, commands) = (
        config.scheduled_facts(),
        config.columns(),
        config.recipes(),
        config.saved_commands(),
    );
    let facts_on_start = d.facts_on_start.unwrap_or(false);
    // Checked when the config was read; this cannot fail here, but an
    // error still reads well.
    let keymap = config
        .keymap()
        .map_err(|e| CliError::BadArg(format!("[keys]: {}", e.msg)))?;
    // The TUI answers questions itself, in dialogs.
    if !g.batch && setup.prompts.is_none() {
        let (p, rx) = Prompter::channel();
        setup.engine.prompter = p;
        setup.prompts = Some(rx);
    }
    Ok(TuiSetup {
        engine: setup.engine,
        prompts: setup.prompts,
        hosts,
        notice,
        origins,
        groups,
        scrollback,
        preselect,
        session_keys: Vec::new(),
        record,
        facts,
        columns,
        facts_on_start,
        recipes,
        commands,
        keymap,
        history: crate::tui::history::default_path(),
        command_timeout: setup.command_timeout,
        session: None,
    })
}

/// The status line's word on what the Ansible inventory names that
/// sshdeck left out (stderr has each, said before the screen opened).
fn left_out_notice(notes: &[String]) -> Option<String> {
    let what = match notes.len() {
        0 => return None,
        1 => "1 host or group".to_string(),
        n => format!("{n} hosts or groups"),
    };
    Some(format!(
        "{what} of the Ansible inventory left out (sshdeck hosts says why)"
    ))
}

/// The status line's word on group names two sources define: short
/// enough for the line (a full clash names files, and would be cut), and
/// pointing at `sshdeck hosts`, which prints each clash whole.
fn clash_notice(clashes: Vec<GroupClash>) -> Option<String> {
    let first = clashes.first()?;
    let name = visible_name(&first.group);
    Some(match clashes.len() {
        1 => format!(
            "@{name} is defined by {} sources; the first wins (sshdeck hosts names them)",
            first.sources.len()
        ),
        n => format!(
            "@{name} and {} more groups are defined by more than one source (sshdeck hosts names them)",
            n - 1
        ),
    })
}

/// The host info's lines on where the inventory names a host: the entry
/// it takes its settings from, then the others, in merge order.
fn origin_lines(r: &crate::inventory::resolve::HostInfo) -> Vec<(String, String)> {
    let source = serde_json::to_value(r.source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut out = vec![(
        "defined in".to_string(),
        match &r.origin {
            Some(o) => format!("{} ({source})", visible_name(o)),
            None => "the command line".to_string(),
        },
    )];
    out.extend(r.also.iter().map(|o| {
        (
            "also named in".to_string(),
            format!("{} (not used)", visible_name(o)),
        )
    }));
    out
}

/// The demo's hosts, and what must live as long as the screen: the
/// embedded servers and their scratch directory.
pub struct DemoRun {
    pub setup: TuiSetup,
    pub farm: DemoFarm,
    pub work: tempfile::TempDir,
}

/// Start `n` embedded demo hosts and the TUI's setup for them.
pub async fn demo_setup(
    n: usize,
    login: DemoLogin,
    record: Option<std::path::PathBuf>,
) -> Result<DemoRun, CliError> {
    let farm = DemoFarm::start(n, login)
        .await
        .map_err(|e| CliError::BadArg(format!("cannot start the demo hosts: {e}")))?;
    let (engine, prompts) = demo_engine(&farm, login);
    let hosts = demo_hosts(&farm);
    let host_keys = farm
        .hosts
        .iter()
        .map(|h| ("127.0.0.1".to_string(), h.port, h.host_key.clone()))
        .collect();
    let all: Vec<usize> = (0..hosts.len()).collect();
    let groups = [("all".to_string(), format!("demo[01-{n:02}]"))]
        .into_iter()
        .collect();
    let work = tempfile::tempdir().map_err(io_err("demo scratch directory"))?;
    let recipes = demo_recipes(work.path()).map_err(io_err("demo recipe inputs"))?;
    let defaults = crate::inventory::config::Config::default();
    // The user's key rebindings apply in the demo as everywhere.
    let keymap = demo_keymap()?;
    let origins = hosts
        .iter()
        .map(|_| {
            vec![(
                "defined in".to_string(),
                "the demo (embedded hosts)".to_string(),
            )]
        })
        .collect();
    let setup = TuiSetup {
        engine,
        notice: None,
        origins,
        prompts: Some(prompts),
        hosts,
        groups,
        scrollback: DEFAULT_SCROLLBACK,
        preselect: all,
        session_keys: host_keys,
        record,
        facts: defaults.scheduled_facts(),
        columns: defaults.columns(),
        facts_on_start: true,
        recipes,
        commands: demo_commands(),
        keymap,
        // Commands typed in the demo are the user's too: Up finds them in
        // the next run, demo or not.
        history: crate::tui::history::default_path(),
        command_timeout: None,
        session: None,
    };
    Ok(DemoRun { setup, farm, work })
}

/// `demo --no-session`: the demo in this process.
pub async fn demo(
    n: usize,
    login: DemoLogin,
    record: Option<std::path::PathBuf>,
) -> Result<ExitCode, CliError> {
    need_terminal()?;
    let demo = demo_setup(n, login, record).await?;
    run(demo.setup).await.map_err(io_err("terminal"))?;
    drop((demo.farm, demo.work));
    Ok(ExitCode::SUCCESS)
}

/// The engine's settings for the demo hosts, and where its questions
/// come out.
fn demo_engine(
    farm: &DemoFarm,
    login: DemoLogin,
) -> (
    EngineConfig,
    tokio::sync::mpsc::Receiver<crate::engine::Prompt>,
) {
    // Nothing from the user's ~/.ssh is used or written: the demo's SSH
    // identity and host keys exist only in this process.
    let mut engine = EngineConfig::new(Vec::new(), Vec::new());
    if login == DemoLogin::Key {
        engine.memory_keys = vec![farm.client_key.clone()];
    }
    engine.agent = None;
    engine.policy = HostKeyPolicy::Strict;
    // With an identity key nothing to log in with is asked; under --login
    // password the password is asked once in a dialog, as on a real fleet.
    // Prompts in commands and shells (expect rules, --sudo) are asked too.
    let (prompter, prompts) = Prompter::channel();
    engine.prompter = prompter;
    (engine, prompts)
}

/// The demo hosts as targets on this machine, each with its tags.
fn demo_hosts(farm: &DemoFarm) -> Vec<(Target, Vec<String>)> {
    let user = crate::engine::connection::target::local_user();
    farm.hosts
        .iter()
        .map(|h| {
            (
                Target::new(h.name.clone(), "127.0.0.1", h.port, user.clone()),
                h.tags.clone(),
            )
        })
        .collect()
}

/// The saved commands the demo offers (title, command).
fn demo_commands() -> Vec<(String, String)> {
    vec![
        ("disk usage here".into(), "df -h .".into()),
        (
            "busiest processes".into(),
            "ps aux --sort=-%cpu | head -5".into(),
        ),
        ("who and where".into(), "id; hostname; pwd".into()),
    ]
}

/// The keymap of the user's config.toml, if it has one; the demo uses
/// none of the config's hosts.
fn demo_keymap() -> Result<crate::keymap::Keymap, CliError> {
    let Some(path) = crate::inventory::config::default_path() else {
        return Ok(Default::default());
    };
    let config = crate::inventory::config::Config::load(&path, false)?;
    config
        .keymap()
        .map_err(|e| CliError::BadArg(format!("{}: [keys]: {}", path.display(), e.msg)))
}

/// The demo's recipe: an input and a job script go up, the job runs and
/// is waited for, its result comes back under a scratch directory.
fn demo_recipes(root: &std::path::Path) -> std::io::Result<Vec<crate::engine::recipe::Recipe>> {
    use crate::engine::recipe::{Recipe, Step};
    use std::time::Duration;
    let inputs = root.join("inputs");
    std::fs::create_dir_all(&inputs)?;
    let input = inputs.join("numbers.txt");
    let numbers: String = (1..=1000).map(|i| format!("{i}\n")).collect();
    std::fs::write(&input, numbers)?;
    let script = inputs.join("job.sh");
    std::fs::write(
        &script,
        "# sums the numbers, slowly enough to watch\n\
         sleep 1\n\
         awk '{ s += $1 } END { print s }' numbers.txt > result.txt\n\
         touch done\n",
    )?;
    let path = |p: &std::path::Path| p.display().to_string();
    Ok(vec![Recipe {
        name: "demo-job".into(),
        description: "put inputs, run a job, wait for it, get the result".into(),
        steps: vec![
            Step::Put {
                sources: vec![path(&input), path(&script)],
                dest: "job-{date}".into(),
            },
            Step::Run {
                command: "cd job-{date} && rm -f done && (sh job.sh >job.log 2>&1 &)".into(),
                timeout: Some(Duration::from_secs(30)),
            },
            Step::Wait {
                command: "test -f job-{date}/done".into(),
                timeout: Duration::from_secs(30),
                every: Duration::from_millis(500),
            },
            Step::Get {
                sources: vec!["job-{date}/result.txt".into()],
                dest: path(&root.join("results/{host}")),
            },
        ],
    }])
}
