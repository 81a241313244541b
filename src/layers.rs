//! The shape of the code, kept by a test: imports go one way, from the ground up, and no
//! two files of `src/` import each other, however far round.
//!
//! It reads every `crate::…` and `super::…` path in `src/` (outside `#[cfg(test)]`
//! code), resolves it to the file that defines it, and fails naming the file and line of
//! an import against [`LAYERS`], and the files of any import circle. A module's own
//! files may use each other through their parent (`super::`, a `mod.rs` re-exporting
//! its children): that is the module tree, not a circle between files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules from the ground up. A file may import its own module's files and
/// any module of a lower layer, never one beside or above it.
pub const LAYERS: &[&[&str]] = &[
    &["duration", "secret", "loopback", "jar", "crypto"],
    &["model"],
    &["facts", "probe", "browser"],
    &["checks"],
    &["profile"],
    &["config"],
    &["apps", "refapp"],
    &["steps"],
    &["report"],
    &["runner"],
    &["cli"],
];

/// One import: where it is written and the file it resolves to.
#[derive(Debug, Clone)]
pub struct Import {
    pub from: String,
    pub line: usize,
    pub text: String,
    pub to: String,
}

/// Module path (`["apps", "profiled"]`) of a file relative to `src/`.
fn module_of(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Every `.rs` file under `dir`, relative to `root`, with `/` separators.
fn files(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p: PathBuf = e.path();
        if p.is_dir() {
            files(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs")
            && let (Ok(rel), Ok(text)) = (p.strip_prefix(root), std::fs::read_to_string(&p))
        {
            out.insert(rel.to_string_lossy().replace('\\', "/"), text);
        }
    }
}

/// The code a file ships: everything before its first `#[cfg(test)]`, comments blanked
/// (their paths are prose, not imports).
fn shipped_code(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .map(|l| match l.find("//") {
            Some(i) => l[..i].to_string(),
            None => l.to_string(),
        })
        .collect()
}

/// The paths a line names, each as the module path it starts from plus its segments:
/// `crate::a::b` → `[a, b]`; `super::x` in a file of module `m::n` → `[m, x]`.
/// Grouped imports (`use crate::a::{b, c::D}`) name each member.
fn paths_in(line: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        let starts_word = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        let (base, skip) = if starts_word && rest.starts_with("crate::") {
            (Vec::new(), "crate::".len())
        } else if starts_word && rest.starts_with("super::") {
            // A file's module is `m::x` for `m/x.rs` and `m` for `m/mod.rs`: `super` drops
            // one segment either way.
            let mut base: Vec<String> = module.to_vec();
            let mut n = 0;
            let mut r = rest;
            while let Some(after) = r.strip_prefix("super::") {
                n += 1;
                r = after;
            }
            for _ in 0..n.min(base.len()) {
                base.pop();
            }
            (base, rest.len() - r.len())
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let tail = &rest[skip..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        let mut segs: Vec<String> = base.clone();
        segs.extend(
            tail[..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        if tail[end..].starts_with('{') {
            // One level of grouping is all the code uses; deeper groups name their head.
            let group = &tail[end + 1..];
            let close = group.find('}').unwrap_or(group.len());
            for member in group[..close].split(',') {
                let m = member.trim().split(" as ").next().unwrap_or("").trim();
                if m.is_empty() || m == "self" {
                    out.push(segs.clone());
                    continue;
                }
                let mut s = segs.clone();
                s.extend(m.split("::").map(|p| p.trim().to_string()));
                out.push(s);
            }
        } else {
            out.push(segs);
        }
        i += skip + end.max(1);
    }
    out
}

/// All imports of `src/` between different files.
pub fn imports(src: &Path) -> Vec<Import> {
    let mut all = BTreeMap::new();
    files(src, src, &mut all);
    let by_module: BTreeMap<Vec<String>, String> = all
        .keys()
        .map(|rel| (module_of(rel), rel.clone()))
        .collect();
    let resolve = |segs: &[String]| -> Option<&String> {
        (1..=segs.len())
            .rev()
            .find_map(|n| by_module.get(&segs[..n]))
    };
    let mut out = Vec::new();
    for (rel, text) in &all {
        let module = module_of(rel);
        for (n, line) in shipped_code(text).iter().enumerate() {
            for segs in paths_in(line, &module) {
                if let Some(to) = resolve(&segs)
                    && to != rel
                {
                    out.push(Import {
                        from: rel.clone(),
                        line: n + 1,
                        text: line.trim().to_string(),
                        to: to.clone(),
                    });
                }
            }
        }
    }
    out
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&top))
}

/// Whether `ancestor` is the file of a module that contains `file`'s module.
fn is_ancestor(ancestor: &str, file: &str) -> bool {
    let (a, f) = (module_of(ancestor), module_of(file));
    a.len() < f.len() && f.starts_with(&a)
}

/// Imports against the layers, as `file:line: text (module → module)`.
pub fn against_layers(imports: &[Import]) -> Vec<String> {
    let mut bad = Vec::new();
    for i in imports {
        let (from, to) = (module_of(&i.from), module_of(&i.to));
        let (Some(f), Some(t)) = (from.first(), to.first()) else {
            continue;
        };
        if f == t {
            continue;
        }
        match (layer_of(f), layer_of(t)) {
            (Some(a), Some(b)) if b < a => {}
            (Some(_), Some(_)) => bad.push(format!(
                "src/{}:{}: `{}` imports `{t}` from `{f}`, which is not below it",
                i.from, i.line, i.text
            )),
            _ => bad.push(format!(
                "src/{}:{}: `{}`: `{f}` or `{t}` is in no layer of src/layers.rs",
                i.from, i.line, i.text
            )),
        }
    }
    bad
}

/// Groups of files that import each other round a circle (Tarjan's components of more
/// than one file), parent-child module edges left out.
pub fn circles(imports: &[Import]) -> Vec<Vec<String>> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for i in imports {
        if is_ancestor(&i.to, &i.from) || is_ancestor(&i.from, &i.to) {
            continue;
        }
        edges.entry(&i.from).or_default().insert(&i.to);
        edges.entry(&i.to).or_default();
    }
    struct Tarjan<'a> {
        edges: &'a BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on.insert(v);
            let next: Vec<&'a str> = self.edges.get(v).into_iter().flatten().copied().collect();
            for w in next {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    group.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.out.push(group);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    #[test]
    fn every_import_goes_down_the_layers() {
        let imports = imports(&src());
        assert!(
            imports.len() > 100,
            "the reader finds the imports: {}",
            imports.len()
        );
        let bad = against_layers(&imports);
        assert!(
            bad.is_empty(),
            "imports against the layers:\n{}",
            bad.join("\n")
        );
    }

    #[test]
    fn no_two_files_import_each_other() {
        let found = circles(&imports(&src()));
        let text: Vec<String> = found.iter().map(|c| c.join(" ↔ ")).collect();
        assert!(found.is_empty(), "import circles:\n{}", text.join("\n"));
    }

    #[test]
    fn every_top_level_module_has_a_layer() {
        let mut all = BTreeMap::new();
        files(&src(), &src(), &mut all);
        let tops: BTreeSet<String> = all
            .keys()
            .filter_map(|rel| module_of(rel).first().cloned())
            .collect();
        let missing: Vec<&String> = tops
            .iter()
            .filter(|t| layer_of(t).is_none() && !["layers"].contains(&t.as_str()))
            .collect();
        assert!(missing.is_empty(), "modules in no layer: {missing:?}");
    }

    /// The reader must see what it is meant to catch, or the two tests above prove nothing.
    #[test]
    fn the_reader_catches_an_upward_import_and_a_circle() {
        let m = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            paths_in("use crate::apps::{Adapter, page::Page};", &m("probe")),
            vec![m("apps::Adapter"), m("apps::page::Page")]
        );
        assert_eq!(
            paths_in(
                "    let x = super::store::random_id();",
                &m("refapp::rocketchat::ddp")
            ),
            vec![m("refapp::rocketchat::store::random_id")]
        );
        assert_eq!(
            paths_in("use super::schema::Profile;", &m("profile")),
            vec![m("schema::Profile")]
        );
        let i = |from: &str, to: &str| Import {
            from: from.into(),
            line: 1,
            text: format!("use crate::{to}"),
            to: to.into(),
        };
        let up = against_layers(&[i("probe/http.rs", "checks/redirect.rs")]);
        assert_eq!(up.len(), 1, "{up:?}");
        assert!(up[0].contains("src/probe/http.rs:1"), "{up:?}");
        assert!(against_layers(&[i("checks/redirect.rs", "probe/http.rs")]).is_empty());
        let round = circles(&[
            i("refapp/rocketchat/ddp.rs", "refapp/rocketchat/rest.rs"),
            i("refapp/rocketchat/rest.rs", "refapp/rocketchat/ddp.rs"),
            i("apps/profiled/mod.rs", "apps/mod.rs"),
            i("apps/mod.rs", "apps/profiled/mod.rs"),
        ]);
        assert_eq!(
            round,
            vec![vec![
                "refapp/rocketchat/ddp.rs".to_string(),
                "refapp/rocketchat/rest.rs".to_string()
            ]]
        );
    }
}
