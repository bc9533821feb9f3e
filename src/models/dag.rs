//! The model graph: edges from each model to the models it reads, cycle detection (the error
//! prints the cycle), selection (`model`, `+model`, `model+`, `dataset.*`, `tag:x`) and rendering
//! as text, Graphviz dot or Mermaid.

use std::collections::{BTreeMap, BTreeSet};

use super::ModelError;
use super::project::{Model, Name};

/// Models and their dependencies (indices into `models`).
#[derive(Debug)]
pub struct Dag {
    pub models: Vec<Model>,
    /// `parents[i]`: models that model `i` reads.
    pub parents: Vec<BTreeSet<usize>>,
    pub children: Vec<BTreeSet<usize>>,
    /// Tables read that no model produces.
    pub sources: BTreeSet<Name>,
    /// Model indices in a dependency order.
    pub order: Vec<usize>,
}

impl Dag {
    /// Builds the graph; a cycle is an error naming it (`a.x -> b.y -> a.x`).
    pub fn new(models: Vec<Model>) -> Result<Dag, ModelError> {
        let index: BTreeMap<Name, usize> = models
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name.clone(), i))
            .collect();
        let mut parents = vec![BTreeSet::new(); models.len()];
        let mut children = vec![BTreeSet::new(); models.len()];
        let mut sources = BTreeSet::new();
        for (i, m) in models.iter().enumerate() {
            for r in &m.refs {
                match index.get(r) {
                    Some(&p) => {
                        parents[i].insert(p);
                        children[p].insert(i);
                    }
                    None => {
                        sources.insert(r.clone());
                    }
                }
            }
        }
        let order = topo_order(&models, &parents)?;
        Ok(Dag {
            models,
            parents,
            children,
            sources,
            order,
        })
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        let lower = name.to_lowercase();
        let matches: Vec<usize> = self
            .models
            .iter()
            .enumerate()
            .filter(|(_, m)| m.name.to_string() == lower || m.name.table == lower)
            .map(|(i, _)| i)
            .collect();
        match matches.as_slice() {
            [i] => Some(*i),
            _ => self.models.iter().position(|m| m.name.to_string() == lower),
        }
    }

    fn closure(&self, start: usize, up: bool) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                let next = if up {
                    &self.parents[i]
                } else {
                    &self.children[i]
                };
                stack.extend(next.iter().copied());
            }
        }
        seen
    }

    /// Models matching one selector.
    fn select_one(&self, spec: &str) -> Result<BTreeSet<usize>, ModelError> {
        if let Some(tag) = spec.strip_prefix("tag:") {
            return Ok(self
                .models
                .iter()
                .enumerate()
                .filter(|(_, m)| m.config.tags.iter().any(|t| t == tag))
                .map(|(i, _)| i)
                .collect());
        }
        if let Some(ds) = spec.strip_suffix(".*") {
            let ds = ds.to_lowercase();
            return Ok(self
                .models
                .iter()
                .enumerate()
                .filter(|(_, m)| m.name.dataset == ds)
                .map(|(i, _)| i)
                .collect());
        }
        let (up, rest) = match spec.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, spec),
        };
        let (down, name) = match rest.strip_suffix('+') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let i = self
            .index_of(name)
            .ok_or_else(|| ModelError::NoSuchModel(name.to_string()))?;
        let mut out = BTreeSet::from([i]);
        if up {
            out.extend(self.closure(i, true));
        }
        if down {
            out.extend(self.closure(i, false));
        }
        Ok(out)
    }

    /// Models selected by `select` (all when empty) minus `exclude`; selectors are separated by
    /// spaces or commas.
    pub fn select(
        &self,
        select: &[String],
        exclude: &[String],
    ) -> Result<BTreeSet<usize>, ModelError> {
        let split = |v: &[String]| -> Vec<String> {
            v.iter()
                .flat_map(|s| s.split([',', ' ']).map(str::to_string).collect::<Vec<_>>())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let mut out: BTreeSet<usize> = if select.is_empty() {
            (0..self.models.len()).collect()
        } else {
            let mut s = BTreeSet::new();
            for spec in split(select) {
                s.extend(self.select_one(&spec)?);
            }
            s
        };
        for spec in split(exclude) {
            for i in self.select_one(&spec)? {
                out.remove(&i);
            }
        }
        Ok(out)
    }

    /// Renders the graph: `text` (one model per line with its inputs), `dot` or `mermaid`.
    pub fn render(&self, format: &str) -> String {
        let mut s = String::new();
        match format {
            "dot" => {
                s.push_str("digraph dap {\n  rankdir=LR;\n");
                for src in &self.sources {
                    s.push_str(&format!("  \"{src}\" [shape=cylinder];\n"));
                }
                for &i in &self.order {
                    let m = &self.models[i];
                    s.push_str(&format!(
                        "  \"{}\" [shape=box, label=\"{}\\n{}\"];\n",
                        m.name, m.name, m.config.materialized
                    ));
                }
                for &i in &self.order {
                    for r in &self.models[i].refs {
                        s.push_str(&format!("  \"{r}\" -> \"{}\";\n", self.models[i].name));
                    }
                }
                s.push_str("}\n");
            }
            "mermaid" => {
                s.push_str("graph LR\n");
                let id = |n: &Name| format!("{}_{}", n.dataset, n.table).replace(['-', ' '], "_");
                for src in &self.sources {
                    s.push_str(&format!("  {}[({src})]\n", id(src)));
                }
                for &i in &self.order {
                    let m = &self.models[i];
                    s.push_str(&format!("  {}[{}]\n", id(&m.name), m.name));
                }
                for &i in &self.order {
                    for r in &self.models[i].refs {
                        s.push_str(&format!("  {} --> {}\n", id(r), id(&self.models[i].name)));
                    }
                }
            }
            _ => {
                for src in &self.sources {
                    s.push_str(&format!("{src} (source)\n"));
                }
                for &i in &self.order {
                    let m = &self.models[i];
                    let refs: Vec<String> = m.refs.iter().map(|r| r.to_string()).collect();
                    s.push_str(&format!("{} ({})", m.name, m.config.materialized));
                    if !refs.is_empty() {
                        s.push_str(&format!(" <- {}", refs.join(", ")));
                    }
                    s.push('\n');
                }
            }
        }
        s
    }
}

/// Kahn's algorithm in name order; on a cycle, walks parents to print one.
fn topo_order(models: &[Model], parents: &[BTreeSet<usize>]) -> Result<Vec<usize>, ModelError> {
    let n = models.len();
    let mut remaining: Vec<usize> = parents.iter().map(BTreeSet::len).collect();
    let mut children = vec![Vec::new(); n];
    for (i, ps) in parents.iter().enumerate() {
        for &p in ps {
            children[p].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|&i| remaining[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &c in &children[i] {
            remaining[c] -= 1;
            if remaining[c] == 0 {
                ready.insert(c);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Some model is still waiting: follow unfinished parents until one repeats.
    let Some(start) = (0..n).find(|&i| remaining[i] > 0) else {
        return Ok(order);
    };
    let mut path = vec![start];
    let mut cur = start;
    while let Some(&p) = parents[cur].iter().find(|&&p| remaining[p] > 0) {
        if let Some(pos) = path.iter().position(|&x| x == p) {
            let mut cycle: Vec<String> = path[pos..]
                .iter()
                .rev()
                .map(|&i| models[i].name.to_string())
                .collect();
            cycle.insert(0, models[p].name.to_string());
            cycle.dedup();
            if cycle.first() != cycle.last() {
                cycle.push(models[p].name.to_string());
            }
            return Err(ModelError::Cycle(cycle.join(" -> ")));
        }
        path.push(p);
        cur = p;
    }
    Err(ModelError::Cycle(models[start].name.to_string()))
}
