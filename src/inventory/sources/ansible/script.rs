//! Dynamic inventories: an executable run with `--list`, answering JSON
//! (`{"group": {"hosts": [...], "vars": {...}, "children": [...]},
//! "_meta": {"hostvars": {...}}}`). `ansible-inventory --list` answers in
//! the same shape, so its answer is read here too.

use std::ffi::OsStr;
use std::path::Path;

use serde_json::Value as Json;

use super::data::Data;
use super::run::{TIMEOUT, run};
use super::value::{PyValue, Var};
use crate::inventory::sources::{Origin, SourceError};

/// Whose answer it is: a script's strings are data Ansible never
/// templates; `ansible-inventory` repeats the inventory's own values,
/// which Ansible templates when it uses them.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Trust {
    Script,
    Inventory,
}

pub(crate) fn run_script(path: &Path, data: &mut Data) -> Result<(), SourceError> {
    let out = run(path, &[OsStr::new("--list")], None, TIMEOUT)?;
    let hosts = read_answer(path, &out, Trust::Script, data)?;
    if let Some(hosts) = hosts {
        // No `_meta`: Ansible asks for each host's variables.
        for name in hosts {
            let out = run(
                path,
                &[OsStr::new("--host"), OsStr::new(&name)],
                None,
                TIMEOUT,
            )?;
            if String::from_utf8_lossy(&out).trim().is_empty() {
                continue;
            }
            let vars: Json = serde_json::from_slice(&out)
                .map_err(|e| bad(path, format!("--host {name}: not JSON: {e}")))?;
            set_host_vars(path, &name, &vars, Trust::Script, data)?;
        }
    }
    Ok(())
}

fn bad(path: &Path, msg: String) -> SourceError {
    SourceError::Invalid {
        origin: Origin::new(path, 0),
        msg: crate::text::sanitize::visible_name(&msg),
    }
}

fn value_of(j: &Json, trust: Trust) -> PyValue {
    match j {
        Json::String(s) if trust == Trust::Script => PyValue::Literal(s.clone()),
        Json::String(s) => PyValue::Str(s.clone()),
        Json::Number(n) => match n.as_i64() {
            Some(i) => PyValue::Int(i),
            None => PyValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::Bool(b) => PyValue::Bool(*b),
        Json::Null => PyValue::Null,
        Json::Object(m) if m.contains_key("__ansible_vault") => PyValue::Vault,
        // ansible-inventory's spelling of an `!unsafe` string.
        Json::Object(m)
            if m.len() == 1 && m.get("__ansible_unsafe").is_some_and(Json::is_string) =>
        {
            PyValue::Literal(
                m["__ansible_unsafe"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        }
        _ => PyValue::Compound,
    }
}

fn set_host_vars(
    path: &Path,
    host: &str,
    vars: &Json,
    trust: Trust,
    data: &mut Data,
) -> Result<(), SourceError> {
    let Json::Object(vars) = vars else {
        return Err(bad(
            path,
            format!("the variables of host {host:?} are not a mapping"),
        ));
    };
    let h = data.add_host(host, None, None, &Origin::new(path, 0))?;
    for (k, v) in vars {
        let var = Var {
            value: value_of(v, trust),
            origin: Origin::new(path, 0),
        };
        data.set_host_var(h, k, var);
    }
    Ok(())
}

/// Reads a `--list` answer into `data`. Returns the hosts to ask
/// `--host` about when the answer has no `_meta.hostvars`.
pub(crate) fn read_answer(
    path: &Path,
    out: &[u8],
    trust: Trust,
    data: &mut Data,
) -> Result<Option<Vec<String>>, SourceError> {
    let origin = Origin::new(path, 0);
    let doc: Json = serde_json::from_slice(out)
        .map_err(|e| bad(path, format!("the answer to --list is not JSON: {e}")))?;
    let Json::Object(doc) = doc else {
        return Err(bad(
            path,
            "the answer to --list is not a JSON object".into(),
        ));
    };
    let mut hosts: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut meta = None;
    for (group, body) in &doc {
        if group == "_meta" {
            match body.get("hostvars") {
                Some(hv @ Json::Object(_)) => meta = Some(hv),
                _ => return Err(bad(path, "_meta.hostvars is not a mapping".into())),
            }
            continue;
        }
        let g = data.add_group(group, &origin);
        let legacy;
        let body = match body {
            Json::Object(m)
                if ["hosts", "vars", "children"]
                    .iter()
                    .any(|k| m.contains_key(*k)) =>
            {
                body
            }
            // A bare mapping is the group's variables, with the group
            // as its only host (Ansible's legacy reading).
            Json::Object(_) => {
                legacy = serde_json::json!({"hosts": [group], "vars": body});
                &legacy
            }
            other => {
                legacy = serde_json::json!({ "hosts": other });
                &legacy
            }
        };
        if let Some(list) = body.get("hosts") {
            let Json::Array(list) = list else {
                return Err(bad(path, format!("{group}.hosts is not a list")));
            };
            for h in list {
                let Json::String(name) = h else {
                    return Err(bad(
                        path,
                        format!("{group}.hosts holds a name that is not a string"),
                    ));
                };
                data.add_host(name, Some(g), None, &origin)?;
                if seen.insert(name.clone()) {
                    hosts.push(name.clone());
                }
            }
        }
        if let Some(vars) = body.get("vars") {
            let Json::Object(vars) = vars else {
                return Err(bad(path, format!("{group}.vars is not a mapping")));
            };
            for (k, v) in vars {
                let var = Var {
                    value: value_of(v, trust),
                    origin: origin.clone(),
                };
                data.set_group_var(g, k, var)?;
            }
        }
        if let Some(children) = body.get("children") {
            let Json::Array(children) = children else {
                return Err(bad(path, format!("{group}.children is not a list")));
            };
            for c in children {
                let Json::String(child) = c else {
                    return Err(bad(
                        path,
                        format!("{group}.children holds a name that is not a string"),
                    ));
                };
                let c = data.add_group(child, &origin);
                data.add_child(g, c, &origin)?;
            }
        }
    }
    let Some(Json::Object(meta)) = meta else {
        return Ok(Some(hosts));
    };
    for name in &hosts {
        if let Some(vars) = meta.get(name) {
            set_host_vars(path, name, vars, trust, data)?;
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_with_meta_is_read() {
        let mut d = Data::new();
        let out =
            br#"{"web": {"hosts": ["a", "b"], "vars": {"ansible_user": "u"}, "children": ["db"]},
                       "db": ["c"], "_meta": {"hostvars": {"a": {"ansible_port": 2222}}}}"#;
        let left = read_answer(Path::new("/s"), out, Trust::Script, &mut d).unwrap();
        assert!(left.is_none());
        d.reconcile();
        let web = d.group("web").unwrap();
        assert_eq!(d.members(web).len(), 3);
        let a = d.host("a").unwrap();
        assert_eq!(d.hosts[a].vars["ansible_port"].value, PyValue::Int(2222));
    }

    #[test]
    fn malformed_answers_are_errors() {
        for out in [
            &b"nope"[..],
            b"[]",
            br#"{"g": {"hosts": "a"}}"#,
            br#"{"_meta": 1}"#,
            br#"{"g": {"children": ["g"]}}"#,
        ] {
            let mut d = Data::new();
            assert!(read_answer(Path::new("/s"), out, Trust::Script, &mut d).is_err());
        }
    }
}
