//! One direction of flow in `src/` (see ARCHITECTURE.md at the repository's
//! root): every module belongs to a layer of [`LAYERS`], and a module imports
//! only modules of its own layer or of earlier ones, with no cycle between
//! modules. Read statically: `use` declarations (groups, `self`, globs and
//! `pub use` re-exports followed to where an item is defined) and paths in
//! the code (`crate::`, `super::`, `self::`, a child module's name), with
//! comments, strings and `#[cfg(test)]` modules left out.
//!
//! The second half of the file shows the check failing on small source
//! trees written for it: a test that could not fail would prove nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, first to last, and the modules (with everything below them)
/// each holds. `main` is the binary (`src/main.rs`).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &[
            "system",
            "secret_data",
            "eso_model",
            "wait",
            "files",
            "interrupt",
            "out",
        ],
    ),
    ("fixtures", &["fixtures"]),
    ("checks", &["checks"]),
    ("env", &["env"]),
    ("scenario", &["scenario"]),
    ("run", &["run"]),
    ("reports", &["drill", "differential"]),
    ("commands", &["commands"]),
    ("main", &["main"]),
];

/// The crate's name as `src/main.rs` (another crate) names it.
const CRATE: &str = "opssight_harness";

#[test]
fn src_imports_only_earlier_layers_and_has_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = check(&src, CRATE, LAYERS);
    assert!(
        problems.is_empty(),
        "src/ breaks the layering of ARCHITECTURE.md:\n{}",
        problems.join("\n")
    );
}

/// The table of steps in `scenario/steps/mod.rs` is where a newcomer finds
/// a step: it must name every step, in the module that defines it, and
/// nothing else.
#[test]
fn the_table_of_steps_names_every_step_and_its_module() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scenario/steps");
    let attribute = regex::Regex::new(
        r#"#\[(?:given|when|then)\(\s*(?:expr\s*=\s*)?"((?:[^"\\]|\\.)*)"\s*\)\]"#,
    )
    .unwrap();
    let mut defined = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_string_lossy().into_owned();
        if module == "mod" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let attributes = text.matches("#[given(").count()
            + text.matches("#[when(").count()
            + text.matches("#[then(").count();
        let found: Vec<String> = attribute
            .captures_iter(&text)
            .map(|c| c[1].replace("\\\"", "\""))
            .collect();
        assert_eq!(
            found.len(),
            attributes,
            "{}: a step attribute this test cannot read",
            path.display()
        );
        defined.extend(found.into_iter().map(|p| (p, module.clone())));
    }
    let table: BTreeSet<(String, String)> = std::fs::read_to_string(dir.join("mod.rs"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("//! | `"))
        .filter_map(|row| {
            let (phrase, rest) = row.split_once("` | `")?;
            Some((phrase.to_owned(), rest.trim_end_matches("` |").to_owned()))
        })
        .collect();
    let missing: Vec<_> = defined.difference(&table).collect();
    let stale: Vec<_> = table.difference(&defined).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "src/scenario/steps/mod.rs's table of steps is out of date.\nnot in it: {missing:?}\nin it but not a step there: {stale:?}"
    );
}

/// Every problem, one line each naming the file, the line and the path.
fn check(src: &Path, crate_name: &str, layers: &[(&str, &[&str])]) -> Vec<String> {
    let tree = match Tree::read(src, crate_name) {
        Ok(t) => t,
        Err(problems) => return problems,
    };
    let mut problems = Vec::new();
    let layer_of = |m: &Module| -> Option<usize> {
        let first = m.path.first().map(String::as_str).unwrap_or("");
        layers
            .iter()
            .position(|(_, prefixes)| prefixes.contains(&first))
    };
    for m in tree.modules.values() {
        if !m.path.is_empty() && layer_of(m).is_none() {
            problems.push(format!(
                "{}: the module {} is in no layer of the table",
                m.file.display(),
                m.name()
            ));
        }
    }
    let edges = tree.edges();
    for e in &edges {
        let (from, to) = (&tree.modules[&e.from], &tree.modules[&e.to]);
        if to.path.is_empty() {
            problems.push(format!(
                "{}:{}: `{}` names the crate's root, which holds only modules",
                from.file.display(),
                e.line,
                e.text
            ));
            continue;
        }
        if let (Some(a), Some(b)) = (layer_of(from), layer_of(to))
            && b > a
        {
            problems.push(format!(
                "{}:{}: `{}` imports {} (layer {}) into {} (layer {}): a layer imports only the layers before it",
                from.file.display(),
                e.line,
                e.text,
                to.name(),
                layers[b].0,
                from.name(),
                layers[a].0
            ));
        }
    }
    for cycle in cycles(&edges) {
        let names: Vec<String> = cycle.iter().map(|m| tree.modules[m].name()).collect();
        let mut lines = Vec::new();
        for e in edges
            .iter()
            .filter(|e| cycle.contains(&e.from) && cycle.contains(&e.to))
        {
            lines.push(format!(
                "    {}:{}: `{}`",
                tree.modules[&e.from].file.display(),
                e.line,
                e.text
            ));
        }
        lines.dedup();
        problems.push(format!(
            "a cycle between {}:\n{}",
            names.join(", "),
            lines.join("\n")
        ));
    }
    problems
}

type ModPath = Vec<String>;

#[derive(Debug)]
struct Module {
    path: ModPath,
    file: PathBuf,
    /// The code, comments and literals blanked, test modules removed.
    code: String,
    /// Child modules declared here (`mod x;`).
    children: BTreeSet<String>,
    /// Names this module re-exports (`pub use`), with what they name.
    reexports: BTreeMap<String, Vec<(ModPath, String)>>,
    /// The binary's root: `opssight_harness::` names the library.
    binary: bool,
}

impl Module {
    fn name(&self) -> String {
        if self.binary {
            "main".into()
        } else if self.path.is_empty() {
            "crate".into()
        } else {
            self.path.join("::")
        }
    }
}

struct Tree {
    modules: BTreeMap<ModPath, Module>,
    /// `#[macro_export]` macros, which live at the crate's root: name →
    /// the module that defines them.
    macros: BTreeMap<String, ModPath>,
    crate_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: ModPath,
    to: ModPath,
    line: usize,
    text: String,
}

/// A path as written: its segments (`crate`, `super`, ... first) and line.
#[derive(Debug, Clone)]
struct Written {
    segments: Vec<String>,
    line: usize,
    text: String,
}

impl Tree {
    fn read(src: &Path, crate_name: &str) -> Result<Self, Vec<String>> {
        let mut files = Vec::new();
        let mut stack = vec![src.to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "rs") {
                    files.push(p);
                }
            }
        }
        files.sort();
        let mut modules = BTreeMap::new();
        let mut macros = BTreeMap::new();
        let mut problems = Vec::new();
        for file in files {
            let rel = file.strip_prefix(src).unwrap();
            let shown = Path::new("src").join(rel);
            let mut path: ModPath = rel
                .with_extension("")
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            let binary = path == ["main"];
            if path.last().is_some_and(|l| l == "mod") || path == ["lib"] {
                path.pop();
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let code = without_test_modules(&blank(&text));
            for (path, code) in inline_modules(path, code) {
                let children = module_declarations(&code).into_iter().collect();
                for name in exported_macros(&code) {
                    macros.insert(name, path.clone());
                }
                let key = if binary {
                    vec!["main".into()]
                } else {
                    path.clone()
                };
                if modules.contains_key(&key) {
                    problems.push(format!(
                        "{}: the module {} is defined twice",
                        shown.display(),
                        key.join("::")
                    ));
                }
                modules.insert(
                    key,
                    Module {
                        path,
                        file: shown.clone(),
                        code,
                        children,
                        reexports: BTreeMap::new(),
                        binary,
                    },
                );
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut tree = Self {
            modules,
            macros,
            crate_name: crate_name.into(),
        };
        let keys: Vec<ModPath> = tree.modules.keys().cloned().collect();
        for key in keys {
            let m = &tree.modules[&key];
            let mut reexports: BTreeMap<String, Vec<(ModPath, String)>> = BTreeMap::new();
            for (public, paths) in use_declarations(&m.code) {
                if !public {
                    continue;
                }
                for (written, alias) in paths {
                    let name = alias
                        .unwrap_or_else(|| written.segments.last().cloned().unwrap_or_default());
                    reexports
                        .entry(name)
                        .or_default()
                        .push((key.clone(), written.segments.join("::")));
                }
            }
            tree.modules.get_mut(&key).unwrap().reexports = reexports;
        }
        Ok(tree)
    }

    /// Every import between two different modules.
    fn edges(&self) -> Vec<Edge> {
        let mut edges = BTreeSet::new();
        for (key, m) in &self.modules {
            let mut written: Vec<Written> = use_declarations(&m.code)
                .into_iter()
                .flat_map(|(_, paths)| paths.into_iter().map(|(w, _)| w))
                .collect();
            written.extend(inline_paths(m, &self.crate_name));
            for w in written {
                if let Some(to) = self.resolve(key, &w.segments, &mut BTreeSet::new())
                    && &to != key
                {
                    edges.insert(Edge {
                        from: key.clone(),
                        to,
                        line: w.line,
                        text: w.text.clone(),
                    });
                }
            }
        }
        edges.into_iter().collect()
    }

    /// The module a path written in `from` leads to (`None`: another crate).
    fn resolve(
        &self,
        from: &ModPath,
        segments: &[String],
        seen: &mut BTreeSet<(ModPath, String)>,
    ) -> Option<ModPath> {
        let m = &self.modules[from];
        let (first, rest) = segments.split_first()?;
        let mut at: ModPath = match first.as_str() {
            "crate" if !m.binary => Vec::new(),
            "self" if !m.binary => m.path.clone(),
            "super" if !m.binary => m.path[..m.path.len().checked_sub(1)?].to_vec(),
            name if m.binary && name == self.crate_name => Vec::new(),
            name if !m.binary && m.children.contains(name) => {
                let mut p = m.path.clone();
                p.push(name.to_owned());
                p
            }
            _ => return None,
        };
        let mut rest = rest.iter().peekable();
        while let Some(seg) = rest.peek() {
            if seg.as_str() == "super" {
                at.pop();
                rest.next();
                continue;
            }
            let mut next = at.clone();
            next.push((*seg).clone());
            if self.modules.contains_key(&next) {
                at = next;
                rest.next();
            } else {
                break;
            }
        }
        // An item: where a re-export or an exported macro says it is.
        if let Some(item) = rest.next() {
            if at.is_empty()
                && let Some(defined) = self.macros.get(item)
            {
                return Some(defined.clone());
            }
            if let Some(targets) = self.modules.get(&at).and_then(|t| t.reexports.get(item))
                && seen.insert((at.clone(), item.clone()))
            {
                for (module, path) in targets {
                    let segs: Vec<String> = path.split("::").map(str::to_owned).collect();
                    if let Some(to) = self.resolve(module, &segs, seen) {
                        return Some(to);
                    }
                }
            }
        }
        Some(at)
    }
}

/// Strongly connected groups of more than one module (Tarjan's algorithm).
fn cycles(edges: &[Edge]) -> Vec<Vec<ModPath>> {
    let mut graph: BTreeMap<&ModPath, BTreeSet<&ModPath>> = BTreeMap::new();
    for e in edges {
        graph.entry(&e.from).or_default().insert(&e.to);
        graph.entry(&e.to).or_default();
    }
    struct State<'a> {
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        out: Vec<Vec<ModPath>>,
    }
    fn visit<'a>(
        v: &'a ModPath,
        graph: &BTreeMap<&'a ModPath, BTreeSet<&'a ModPath>>,
        s: &mut State<'a>,
    ) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &graph[v] {
            if !s.index.contains_key(w) {
                visit(w, graph, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w.clone());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.out.push(group);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(v, &graph, &mut s);
        }
    }
    s.out
}

// ---- reading Rust source, just enough ----

/// `text` with comments and the insides of string and character literals
/// replaced by spaces (newlines kept, so lines still count).
fn blank(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    while i < c.len() {
        let ident_before = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(keep(c[i]));
                    i += 1;
                }
            }
        } else if !ident_before && (c[i] == 'r' || (c[i] == 'b' && c.get(i + 1) == Some(&'r'))) && {
            let mut j = i + if c[i] == 'b' { 2 } else { 1 };
            while c.get(j) == Some(&'#') {
                j += 1;
            }
            c.get(j) == Some(&'"')
        } {
            // A raw string: r"..", r#".."#, br#".."#.
            let start = i;
            i += if c[i] == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while c[i] == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            for _ in start..i {
                out.push(' ');
            }
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += hashes + 1;
                    break;
                }
                out.push(keep(c[i]));
                i += 1;
            }
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    out.push(keep(c[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' && !ident_before {
            // A character literal, or a lifetime (left as it is).
            let end = if c.get(i + 1) == Some(&'\\') {
                (i + 2..c.len()).find(|&j| c[j] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    for _ in i..=end {
                        out.push(' ');
                    }
                    i = end + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The index of the `}` closing the `{` at `open`.
fn closing(code: &[char], open: usize) -> usize {
    let mut depth = 0;
    for (j, ch) in code.iter().enumerate().skip(open) {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    code.len().saturating_sub(1)
}

fn skip_ws(code: &[char], mut i: usize) -> usize {
    while i < code.len() && code[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Skips `#[...]` attributes (and white space) from `i`.
fn skip_attributes(code: &[char], mut i: usize) -> usize {
    loop {
        i = skip_ws(code, i);
        if code.get(i) == Some(&'#') && code.get(i + 1) == Some(&'[') {
            let mut depth = 0;
            while i < code.len() {
                match code[i] {
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        } else {
            return i;
        }
    }
}

/// Skips a visibility (`pub`, `pub(crate)`, ...) from `i`.
fn skip_visibility(code: &[char], i: usize) -> (usize, bool) {
    let i = skip_ws(code, i);
    if word_at(code, i) == "pub" {
        let mut j = skip_ws(code, i + 3);
        if code.get(j) == Some(&'(') {
            while j < code.len() && code[j] != ')' {
                j += 1;
            }
            j += 1;
        }
        (j, true)
    } else {
        (i, false)
    }
}

fn word_at(code: &[char], i: usize) -> String {
    code[i.min(code.len())..]
        .iter()
        .take_while(|c| is_ident(**c))
        .collect()
}

/// Where a whole word `w` starts in `code`.
fn words(code: &[char], w: &str) -> Vec<usize> {
    let wc: Vec<char> = w.chars().collect();
    (0..code.len())
        .filter(|&i| {
            code[i..].starts_with(&wc)
                && (i == 0 || !is_ident(code[i - 1]))
                && code.get(i + wc.len()).is_none_or(|c| !is_ident(*c))
        })
        .collect()
}

/// `code` without its `#[cfg(test)]` modules.
fn without_test_modules(code: &str) -> String {
    let mut c: Vec<char> = code.chars().collect();
    let pattern: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + pattern.len() <= c.len() {
        if c[i..].starts_with(&pattern) {
            let after = skip_attributes(&c, i + pattern.len());
            let (after, _) = skip_visibility(&c, after);
            if word_at(&c, after) == "mod" {
                let mut j = after;
                while j < c.len() && c[j] != '{' && c[j] != ';' {
                    j += 1;
                }
                let end = if c.get(j) == Some(&'{') {
                    closing(&c, j)
                } else {
                    j
                };
                let last = end.min(c.len() - 1);
                for ch in &mut c[i..=last] {
                    if *ch != '\n' {
                        *ch = ' ';
                    }
                }
                i = end;
            }
        }
        i += 1;
    }
    c.into_iter().collect()
}

fn line_of(code: &[char], i: usize) -> usize {
    code[..i].iter().filter(|c| **c == '\n').count() + 1
}

/// The names of the modules declared in `code` (`mod x;`, `mod x { .. }`).
fn module_declarations(code: &str) -> Vec<String> {
    let c: Vec<char> = code.chars().collect();
    words(&c, "mod")
        .into_iter()
        .filter_map(|i| {
            let j = skip_ws(&c, i + 3);
            let name = word_at(&c, j);
            let k = skip_ws(&c, j + name.len());
            (!name.is_empty() && matches!(c.get(k), Some(';' | '{'))).then_some(name)
        })
        .collect()
}

/// The file's module and the inline modules (`mod x { .. }`) inside it,
/// each with its own code (an inline module's code left out of its
/// parent's; lines keep their numbers).
fn inline_modules(path: ModPath, code: String) -> Vec<(ModPath, String)> {
    let mut c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    for i in words(&c.clone(), "mod") {
        let j = skip_ws(&c, i + 3);
        let name = word_at(&c, j);
        let k = skip_ws(&c, j + name.len());
        if name.is_empty() || c.get(k) != Some(&'{') || c[i] != 'm' {
            continue;
        }
        let end = closing(&c, k);
        // Its code, at its own lines: the rest of the file blanked.
        let inner: String = c
            .iter()
            .enumerate()
            .map(|(n, ch)| {
                if (k + 1..end).contains(&n) || *ch == '\n' {
                    *ch
                } else {
                    ' '
                }
            })
            .collect();
        for ch in &mut c[i..=end] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        let mut child = path.clone();
        child.push(name);
        out.extend(inline_modules(child, inner));
    }
    out.insert(0, (path, c.into_iter().collect()));
    out
}

fn exported_macros(code: &str) -> Vec<String> {
    let c: Vec<char> = code.chars().collect();
    let pattern: Vec<char> = "#[macro_export]".chars().collect();
    (0..c.len())
        .filter(|&i| c[i..].starts_with(&pattern))
        .filter_map(|i| {
            let j = skip_attributes(&c, i);
            (word_at(&c, j) == "macro_rules").then(|| {
                let mut k = j + "macro_rules".len();
                k = skip_ws(&c, k);
                if c.get(k) == Some(&'!') {
                    k += 1;
                }
                word_at(&c, skip_ws(&c, k))
            })
        })
        .collect()
}

/// A path a `use` brings in, and the name it is brought in as when renamed.
type Imported = (Written, Option<String>);

/// Every `use` declaration: whether it re-exports, and its paths.
fn use_declarations(code: &str) -> Vec<(bool, Vec<Imported>)> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    for i in words(&c, "use") {
        // A declaration starts a statement: after `;`, `{`, `}`, an
        // attribute or a visibility.
        let mut b = i;
        while b > 0 && c[b - 1].is_whitespace() {
            b -= 1;
        }
        let before: String = c[..b].iter().rev().take(12).collect::<String>();
        let public = before.starts_with("bup") || before.starts_with(')');
        let statement_start = b == 0
            || matches!(c[b - 1], ';' | '{' | '}' | ']')
            || before.starts_with("bup")
            || (before.starts_with(')') && before.contains("bup"));
        if !statement_start {
            continue;
        }
        let Some(end) = (i..c.len()).find(|&j| c[j] == ';') else {
            continue;
        };
        let body: String = c[i + 3..end].iter().collect();
        let line = line_of(&c, i);
        let mut paths = Vec::new();
        expand_use(&body, &mut Vec::new(), line, &mut paths);
        out.push((public, paths));
    }
    out
}

/// Expands `a::{b, c::{d as e, self}, f::*}` into whole paths.
fn expand_use(body: &str, prefix: &mut Vec<String>, line: usize, out: &mut Vec<Imported>) {
    for part in split_top(body) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if let Some(open) = part.find('{') {
            let head = part[..open].trim().trim_end_matches("::");
            let inner = &part[open + 1..part.rfind('}').unwrap_or(part.len())];
            let added: Vec<String> = head
                .split("::")
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            let n = added.len();
            prefix.extend(added);
            expand_use(inner, prefix, line, out);
            prefix.truncate(prefix.len() - n);
        } else {
            let (path, alias) = match part.split_once(" as ") {
                Some((p, a)) => (p.trim(), Some(a.trim().to_owned())),
                None => (part, None),
            };
            let mut segments = prefix.clone();
            for s in path.split("::").map(str::trim).filter(|s| !s.is_empty()) {
                if s == "self" && !segments.is_empty() {
                    continue;
                }
                if s != "*" {
                    segments.push(s.to_owned());
                }
            }
            let text = segments.join("::");
            out.push((
                Written {
                    segments,
                    line,
                    text,
                },
                alias,
            ));
        }
    }
}

/// `s` split at the commas outside braces.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in s.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Paths in the code outside `use` declarations: those starting with
/// `crate::`, `super::`, `self::`, a child module's name or (in the
/// binary) the library's name.
fn inline_paths(m: &Module, crate_name: &str) -> Vec<Written> {
    let mut c: Vec<char> = m.code.chars().collect();
    // `use` declarations are read whole elsewhere.
    for i in words(&c.clone(), "use") {
        if let Some(end) = (i..c.len()).find(|&j| c[j] == ';') {
            for ch in &mut c[i..end] {
                if *ch != '\n' {
                    *ch = ' ';
                }
            }
        }
    }
    let mut starts: BTreeSet<&str> = BTreeSet::new();
    if m.binary {
        starts.insert(crate_name);
    } else {
        starts.extend(["crate", "super", "self"]);
        starts.extend(m.children.iter().map(String::as_str));
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if !is_ident(c[i]) || (i > 0 && (is_ident(c[i - 1]) || c[i - 1] == '$')) {
            i += 1;
            continue;
        }
        let w = word_at(&c, i);
        let after = i + w.len();
        let preceded_by_path = i >= 2 && c[i - 1] == ':' && c[i - 2] == ':';
        if starts.contains(w.as_str())
            && !preceded_by_path
            && c.get(after) == Some(&':')
            && c.get(after + 1) == Some(&':')
        {
            let mut segments = vec![w.clone()];
            let mut j = after;
            while c.get(j) == Some(&':') && c.get(j + 1) == Some(&':') {
                let seg = word_at(&c, j + 2);
                if seg.is_empty() {
                    break;
                }
                j += 2 + seg.len();
                segments.push(seg);
            }
            let text = segments.join("::");
            out.push(Written {
                segments,
                line: line_of(&c, i),
                text,
            });
            i = j;
        } else {
            i = after.max(i + 1);
        }
    }
    out
}

// ---- the check can fail ----

/// A source tree of its own: `files` as (path under src/, text).
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join("src").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const SMALL: &[(&str, &[&str])] = &[("low", &["low", "also_low"]), ("high", &["high"])];

fn problems_of(files: &[(&str, &str)]) -> Vec<String> {
    let dir = tree(files);
    check(&dir.path().join("src"), "small", SMALL)
}

#[test]
fn an_import_of_a_later_layer_is_named_with_its_file_line_and_path() {
    let problems = problems_of(&[
        ("lib.rs", "pub mod low;\npub mod high;\n"),
        (
            "low.rs",
            "//! Low.\n\npub fn f() -> u8 {\n    crate::high::g()\n}\n",
        ),
        ("high.rs", "pub fn g() -> u8 { 1 }\n"),
    ]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "src/low.rs:4: `crate::high::g` imports high (layer high) into low (layer low)"
        ),
        "{problems:?}"
    );
}

#[test]
fn use_groups_super_and_self_paths_are_resolved() {
    let problems = problems_of(&[
        ("lib.rs", "pub mod low;\npub mod high;\n"),
        ("low/mod.rs", "pub mod inner;\npub use self::inner::T;\n"),
        (
            "low/inner.rs",
            "use super::super::{high::{self, deep::X}, low::T as U};\npub struct T;\n",
        ),
        ("high/mod.rs", "pub mod deep;\n"),
        ("high/deep.rs", "pub struct X;\n"),
    ]);
    // `high` and `high::deep` are both named; `low::T` is low's own.
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("src/low/inner.rs:1: `super::super::high` imports high ")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p
            .starts_with("src/low/inner.rs:1: `super::super::high::deep::X` imports high::deep ")),
        "{problems:?}"
    );
}

#[test]
fn a_cycle_between_modules_of_one_layer_is_named() {
    let problems = problems_of(&[
        ("lib.rs", "pub mod low;\npub mod also_low;\n"),
        ("low.rs", "use crate::also_low::A;\npub struct B;\n"),
        ("also_low.rs", "pub struct A;\nfn f(_: super::low::B) {}\n"),
    ]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("a cycle between also_low, low:"),
        "{problems:?}"
    );
    assert!(
        problems[0].contains("src/low.rs:1: `crate::also_low::A`"),
        "{problems:?}"
    );
    assert!(
        problems[0].contains("src/also_low.rs:2: `super::low::B`"),
        "{problems:?}"
    );
}

#[test]
fn a_re_export_is_followed_to_where_the_item_is_defined() {
    // `low` re-exports high's item: importing it through `low` is
    // importing `high`.
    let problems = problems_of(&[
        ("lib.rs", "pub mod low;\npub mod also_low;\npub mod high;\n"),
        ("low.rs", "pub use crate::high::H;\n"),
        ("also_low.rs", "use crate::low::H;\n"),
        ("high.rs", "pub struct H;\n"),
    ]);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("src/also_low.rs:1: `crate::low::H` imports high ")),
        "{problems:?}"
    );
}

#[test]
fn comments_strings_and_test_modules_are_not_imports() {
    let problems = problems_of(&[
        ("lib.rs", "pub mod low;\npub mod high;\n"),
        (
            "low.rs",
            r##"//! Mentions crate::high::X in a comment.
/* and crate::high::Y /* nested */ here */
pub const S: &str = "crate::high::Z";
pub const R: &str = r#"super::high::W"#;
pub fn f<'a>(s: &'a str) -> char { let _ = s; 'c' }

#[cfg(test)]
#[allow(unused)]
mod tests {
    use crate::high::Q;
    fn g() { crate::high::q(); }
}
"##,
        ),
        ("high.rs", "pub struct X;\n"),
    ]);
    assert_eq!(problems, Vec::<String>::new());
}

#[test]
fn an_inline_module_is_a_module_of_its_own() {
    let problems = problems_of(&[
        ("lib.rs", "pub mod low;\npub mod high;\n"),
        (
            "low.rs",
            "pub struct A;\npub mod nested {\n    pub fn f(_: super::A) {}\n    pub fn g() { crate::high::h() }\n}\n",
        ),
        ("high.rs", "pub fn h() {}\n"),
    ]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "src/low.rs:4: `crate::high::h` imports high (layer high) into low::nested (layer low)"
        ),
        "{problems:?}"
    );
}

#[test]
fn a_module_in_no_layer_is_refused() {
    let problems = problems_of(&[("lib.rs", "pub mod stray;\n"), ("stray.rs", "\n")]);
    assert_eq!(
        problems,
        ["src/stray.rs: the module stray is in no layer of the table"]
    );
}

#[test]
fn the_binary_names_the_library_by_its_crate_name() {
    let problems = problems_of(&[
        ("lib.rs", "pub mod low;\npub mod high;\n"),
        ("low.rs", "pub fn f() {}\n"),
        ("high.rs", "pub fn g() { small::low::f() }\n"),
        ("main.rs", "use small::high::g;\nfn main() { g() }\n"),
    ]);
    // main is in no layer of SMALL.
    assert_eq!(
        problems,
        ["src/main.rs: the module main is in no layer of the table"]
    );
}
