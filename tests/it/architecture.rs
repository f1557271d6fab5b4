//! The layering of ARCHITECTURE.md, enforced: every module of `src/` has a layer in its
//! "Layers" table, and a module imports (`crate::…`, outside `#[cfg(test)]`) only from its own
//! layer or the layers below, with no cycle among modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// An import of module `to` by module `from`, at `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    from: String,
    to: String,
    at: String,
}

/// The layer of each module: ARCHITECTURE.md's table under "## Layers", rows
/// `| N | `a`, `b` | … |` (1 is the top).
fn layers(architecture: &str) -> BTreeMap<String, u32> {
    let section = architecture
        .split("\n## ")
        .find(|s| s.starts_with("Layers"))
        .expect("ARCHITECTURE.md has a section '## Layers'");
    let mut out = BTreeMap::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(layer), Some(modules)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Ok(layer) = layer.parse::<u32>() else {
            continue;
        };
        for m in modules.split(',') {
            let m = m.trim().trim_matches('`');
            assert!(
                out.insert(m.to_string(), layer).is_none(),
                "module {m} is in two layers"
            );
        }
    }
    out
}

/// Code lines of a file that count: test modules cut off, comment lines dropped. Returns the
/// lines with their numbers and the names of test-only child modules (`#[cfg(test)] mod x;`).
fn code_lines(text: &str) -> (Vec<(usize, &str)>, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut test_children = Vec::new();
    let mut k = 0;
    while k < lines.len() {
        let line = lines[k].trim();
        if line == "#[cfg(test)]" {
            let next = lines.get(k + 1).map_or("", |l| l.trim());
            if let Some(name) = next
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'))
            {
                test_children.push(name.to_string());
                k += 2;
                continue;
            }
            if next.starts_with("mod ") {
                // An inline test module: by the crate's convention, the rest of the file.
                break;
            }
        }
        if !line.starts_with("//") {
            out.push((k + 1, lines[k]));
        }
        k += 1;
    }
    (out, test_children)
}

/// The top-level modules named by `crate::` paths in a line, including `crate::{a, b::c}`.
fn named_modules(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(k) = rest.find("crate::") {
        // `$crate::` and identifiers ending in `crate` are not paths of this crate.
        let before = rest[..k].chars().last();
        rest = &rest[k + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(item);
        } else {
            out.push(rest.to_string());
        }
    }
    out.iter()
        .map(|p| {
            p.trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|m| !m.is_empty() && m != "self")
        .collect()
}

/// The module a source file belongs to: `src/x.rs` and `src/x/…` are `x`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("a file under src");
    let first = rel.components().next().expect("a path");
    Path::new(first.as_os_str())
        .file_stem()
        .expect("a name")
        .to_string_lossy()
        .into_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every import between two different modules of the crate at `src`.
fn edges(src: &Path) -> (BTreeSet<String>, Vec<Edge>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut test_only = BTreeSet::new();
    let mut parsed = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        let (lines, children) = code_lines(&text);
        let dir = match file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
        {
            true => file.parent().expect("dir").to_path_buf(),
            false => file.with_extension(""),
        };
        for c in children {
            test_only.insert(dir.join(format!("{c}.rs")));
        }
        let owned: Vec<(usize, String)> = lines.iter().map(|(n, l)| (*n, l.to_string())).collect();
        parsed.push((file.clone(), owned));
    }
    let mut modules = BTreeSet::new();
    let mut out = Vec::new();
    for (file, lines) in parsed {
        if test_only.contains(&file) {
            continue;
        }
        let from = module_of(src, &file);
        if from == "lib" {
            continue;
        }
        modules.insert(from.clone());
        for (n, line) in lines {
            for to in named_modules(&line) {
                if to != from {
                    out.push(Edge {
                        from: from.clone(),
                        to,
                        at: format!("{}:{n}", file.display()),
                    });
                }
            }
        }
    }
    (modules, out)
}

/// What breaks the layering: a module without a layer, an import that goes up, a cycle.
fn violations(
    layers: &BTreeMap<String, u32>,
    modules: &BTreeSet<String>,
    edges: &[Edge],
) -> Vec<String> {
    let mut out = Vec::new();
    for m in modules {
        if !layers.contains_key(m) {
            out.push(format!("module {m} has no layer in ARCHITECTURE.md"));
        }
    }
    for m in layers.keys() {
        if !modules.contains(m) {
            out.push(format!(
                "ARCHITECTURE.md names module {m}, which src/ does not have"
            ));
        }
    }
    for e in edges {
        if let (Some(&a), Some(&b)) = (layers.get(&e.from), layers.get(&e.to)) {
            if b < a {
                out.push(format!(
                    "{}: {} (layer {a}) imports {} (layer {b}), a higher layer",
                    e.at, e.from, e.to
                ));
            }
        }
    }
    // Cycles among modules (within a layer: across layers an upward edge is reported above).
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in edges {
        graph.entry(&e.from).or_default().insert(&e.to);
    }
    for start in graph.keys() {
        // Is `start` reachable from its own imports?
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Vec<&str>> = vec![vec![start]];
        while let Some(path) = stack.pop() {
            let last = *path.last().expect("a path");
            for &next in graph.get(last).into_iter().flatten() {
                if next == *start {
                    let mut cycle = path.clone();
                    cycle.push(next);
                    // Each cycle once, from its smallest module.
                    if cycle.iter().all(|m| m >= start) {
                        out.push(format!("import cycle: {}", cycle.join(" → ")));
                    }
                } else if seen.insert(next) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
    out
}

#[test]
fn imports_go_only_down_the_layers_of_architecture_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let architecture =
        std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("read ARCHITECTURE.md");
    let layers = layers(&architecture);
    let (modules, edges) = edges(&root.join("src"));
    assert!(
        modules.len() > 20 && edges.len() > 50,
        "the scan found the crate"
    );
    let broken = violations(&layers, &modules, &edges);
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

fn edge(from: &str, to: &str) -> Edge {
    Edge {
        from: from.into(),
        to: to.into(),
        at: "src/made_up.rs:1".into(),
    }
}

fn made_up() -> (BTreeMap<String, u32>, BTreeSet<String>) {
    let layers = BTreeMap::from([
        ("cli".to_string(), 1),
        ("output".to_string(), 2),
        ("chart".to_string(), 3),
        ("stats".to_string(), 3),
    ]);
    let modules = layers.keys().cloned().collect();
    (layers, modules)
}

#[test]
fn the_checker_fails_on_an_upward_import() {
    let (layers, modules) = made_up();
    assert!(violations(
        &layers,
        &modules,
        &[edge("cli", "output"), edge("output", "chart")]
    )
    .is_empty());
    let broken = violations(&layers, &modules, &[edge("chart", "output")]);
    assert_eq!(
        broken,
        ["src/made_up.rs:1: chart (layer 3) imports output (layer 2), a higher layer"]
    );
}

#[test]
fn the_checker_fails_on_a_cycle_within_a_layer() {
    let (layers, modules) = made_up();
    let broken = violations(
        &layers,
        &modules,
        &[edge("chart", "stats"), edge("stats", "chart")],
    );
    assert_eq!(broken, ["import cycle: chart → stats → chart"]);
}

#[test]
fn the_checker_fails_on_a_module_without_a_layer() {
    let (layers, mut modules) = made_up();
    modules.insert("server".into());
    let broken = violations(&layers, &modules, &[]);
    assert_eq!(broken, ["module server has no layer in ARCHITECTURE.md"]);
}

#[test]
fn imports_are_read_from_paths_and_groups_but_not_comments_or_tests() {
    assert_eq!(
        named_modules("use crate::engine::{self, Keep};"),
        ["engine"]
    );
    assert_eq!(
        named_modules("use crate::{data::IcbTable, money, stats::{a, b}};"),
        ["data", "money", "stats"]
    );
    assert_eq!(
        named_modules("let x = crate::cancel::requested() && $crate::y::z;"),
        ["cancel"]
    );
    let text = "use crate::a::B;\n// use crate::c::D;\nfn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::e::F;\n}\n";
    let (lines, children) = code_lines(text);
    let named: Vec<String> = lines.iter().flat_map(|(_, l)| named_modules(l)).collect();
    assert_eq!(named, ["a"]);
    assert!(children.is_empty());
    let (_, children) = code_lines("#[cfg(test)]\nmod tests;\n");
    assert_eq!(children, ["tests"]);
}

#[test]
fn the_tests_table_of_architecture_md_lists_every_integration_test_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let table = architecture
        .split("\n## ")
        .find(|s| s.starts_with("Tests"))
        .expect("ARCHITECTURE.md has a section '## Tests'");
    let listed: BTreeSet<String> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    let main = std::fs::read_to_string(root.join("tests/it/main.rs")).unwrap();
    let modules: BTreeSet<String> = main
        .lines()
        .filter_map(|l| l.strip_prefix("mod "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    assert!(modules.len() > 20, "{modules:?}");
    let missing: Vec<&String> = modules.difference(&listed).collect();
    let stale: Vec<&String> = listed.difference(&modules).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "tests/it modules without a row: {missing:?}; rows without a module: {stale:?}"
    );
}
