//! Where the editor draws each state when nobody has placed it: a layered layout.
//!
//! States are put in columns by their distance from the start state along the longest path
//! that does not go backwards (transitions that close a loop are ignored for this), then each
//! column is ordered so that a state sits near the states it comes from (barycentres, a few
//! sweeps), which keeps arrows short and crossings few. Deterministic: the same definition
//! always gives the same picture. Unreachable states get columns of their own, from where a
//! search started at them would put them, so they stay visible rather than piled at the origin.

use super::{Position, WorkflowDefinition};
use crate::ids::StateId;
use std::collections::HashMap;

/// A state's box in the diagram.
pub const NODE_WIDTH: i32 = 168;
pub const NODE_HEIGHT: i32 = 52;
/// Horizontal space between columns (room for a transition's label).
pub const COLUMN_GAP: i32 = 170;
/// Vertical space between two states of a column.
pub const ROW_GAP: i32 = 36;
/// Space around the drawing.
pub const MARGIN: i32 = 40;

const SWEEPS: usize = 4;

/// A position for every state of `def`, in the order of `def.states`.
pub fn layered(def: &WorkflowDefinition) -> Vec<Position> {
    let n = def.states.len();
    let mut index: HashMap<&StateId, usize> = HashMap::with_capacity(n);
    for (i, s) in def.states.iter().enumerate() {
        index.entry(&s.id).or_insert(i);
    }
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
    for t in &def.transitions {
        if let (Some(&a), Some(&b)) = (index.get(&t.from), index.get(&t.to))
            && a != b
            && let Some(out) = successors.get_mut(a)
        {
            out.push(b);
        }
    }

    // Depth-first from the start state, then from every state not yet seen: the finishing
    // order reversed is a topological order of the forward edges, and an edge to a state still
    // on the stack closes a loop.
    let roots = def.states.iter().position(|s| s.start).into_iter().chain(0..n);
    let mut seen = vec![false; n];
    let mut on_stack = vec![false; n];
    let mut finished = Vec::with_capacity(n);
    let mut forward: Vec<Vec<usize>> = vec![Vec::new(); n];
    for root in roots {
        if seen.get(root).copied().unwrap_or(true) {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        set(&mut seen, root);
        set(&mut on_stack, root);
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            let out = successors.get(v).map_or(&[][..], Vec::as_slice);
            if let Some(&w) = out.get(*next) {
                *next = next.saturating_add(1);
                if on_stack.get(w).copied().unwrap_or(false) {
                    continue; // closes a loop
                }
                if let Some(f) = forward.get_mut(v) {
                    f.push(w);
                }
                if !seen.get(w).copied().unwrap_or(true) {
                    set(&mut seen, w);
                    set(&mut on_stack, w);
                    stack.push((w, 0));
                }
            } else {
                stack.pop();
                if let Some(s) = on_stack.get_mut(v) {
                    *s = false;
                }
                finished.push(v);
            }
        }
    }

    // Columns: the longest forward path to each state.
    let mut column = vec![0usize; n];
    for &v in finished.iter().rev() {
        let here = column.get(v).copied().unwrap_or(0);
        for &w in forward.get(v).map_or(&[][..], Vec::as_slice) {
            if let Some(c) = column.get_mut(w) {
                *c = (*c).max(here.saturating_add(1));
            }
        }
    }
    let columns = column.iter().max().map_or(0, |m| m.saturating_add(1));
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for &v in finished.iter().rev() {
        if let Some(layer) = column.get(v).and_then(|&c| layers.get_mut(c)) {
            layer.push(v);
        }
    }

    // Order each column by the mean row of the states it comes from, then of the states it
    // leads to, a few times over.
    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (v, out) in forward.iter().enumerate() {
        for &w in out {
            if let Some(p) = predecessors.get_mut(w) {
                p.push(v);
            }
        }
    }
    let mut row = vec![0usize; n];
    let renumber = |layers: &[Vec<usize>], row: &mut [usize]| {
        for layer in layers {
            for (r, &v) in layer.iter().enumerate() {
                if let Some(slot) = row.get_mut(v) {
                    *slot = r;
                }
            }
        }
    };
    renumber(&layers, &mut row);
    for sweep in 0..SWEEPS {
        let downward = sweep % 2 == 0;
        let neighbours = if downward { &predecessors } else { &forward };
        let order: Vec<usize> = if downward {
            (1..columns).collect()
        } else {
            (0..columns.saturating_sub(1)).rev().collect()
        };
        for c in order {
            let Some(layer) = layers.get_mut(c) else { continue };
            // Keys in hundredths of a row, so that sorting stays in integers.
            let mut keyed: Vec<(usize, usize)> = layer
                .iter()
                .enumerate()
                .map(|(r, &v)| {
                    let near = neighbours.get(v).map_or(&[][..], Vec::as_slice);
                    let key = if near.is_empty() {
                        r.saturating_mul(100)
                    } else {
                        near.iter()
                            .map(|&u| row.get(u).copied().unwrap_or(0))
                            .sum::<usize>()
                            .saturating_mul(100)
                            .checked_div(near.len())
                            .unwrap_or(0)
                    };
                    (key, v)
                })
                .collect();
            crate::sort::sort_by_key(&mut keyed, |&(key, _)| key);
            for (r, (_, v)) in keyed.into_iter().enumerate() {
                if let Some(slot) = layer.get_mut(r) {
                    *slot = v;
                }
                if let Some(slot) = row.get_mut(v) {
                    *slot = r;
                }
            }
        }
    }

    let tallest = layers.iter().map(Vec::len).max().unwrap_or(0);
    let step_x = NODE_WIDTH.saturating_add(COLUMN_GAP);
    let step_y = NODE_HEIGHT.saturating_add(ROW_GAP);
    let mut positions = vec![Position { x: MARGIN, y: MARGIN }; n];
    for (c, layer) in layers.iter().enumerate() {
        let offset = to_i32(tallest.saturating_sub(layer.len())).saturating_mul(step_y) / 2;
        for (r, &v) in layer.iter().enumerate() {
            if let Some(p) = positions.get_mut(v) {
                *p = Position {
                    x: MARGIN.saturating_add(to_i32(c).saturating_mul(step_x)),
                    y: MARGIN
                        .saturating_add(offset)
                        .saturating_add(to_i32(r).saturating_mul(step_y)),
                };
            }
        }
    }
    positions
}

fn set(flags: &mut [bool], i: usize) {
    if let Some(f) = flags.get_mut(i) {
        *f = true;
    }
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(states: &[&str], transitions: &[(&str, &str)]) -> WorkflowDefinition {
        serde_json::from_value(json!({
            "id": "w", "version": 1, "name": "W", "entity": "order",
            "states": states.iter().enumerate().map(|(i, s)| json!({
                "id": s, "label": s, "start": i == 0, "terminal": i.saturating_add(1) == states.len()
            })).collect::<Vec<_>>(),
            "transitions": transitions.iter().enumerate().map(|(i, (a, b))| json!({
                "id": format!("t{i}"), "from": a, "to": b, "label": "go"
            })).collect::<Vec<_>>(),
        }))
        .unwrap()
    }

    fn column(p: Position) -> i32 {
        p.x.saturating_sub(MARGIN).checked_div(NODE_WIDTH.saturating_add(COLUMN_GAP)).unwrap_or(0)
    }

    #[test]
    fn columns_follow_the_longest_forward_path_and_loops_do_not_push_states_right() {
        // a → b → c → d, a → d, c → b (a loop back).
        let d = def(
            &["a", "b", "c", "d"],
            &[("a", "b"), ("b", "c"), ("c", "d"), ("a", "d"), ("c", "b")],
        );
        let p = layered(&d);
        assert_eq!(p.iter().map(|&p| column(p)).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn no_two_states_share_a_place_and_the_layout_is_deterministic() {
        let d = def(
            &["a", "b", "c", "d", "e", "f", "orphan"],
            &[("a", "b"), ("a", "c"), ("a", "d"), ("b", "e"), ("c", "e"), ("d", "f"), ("e", "f")],
        );
        let p = layered(&d);
        let mut unique = p.clone();
        unique.sort_by_key(|p| (p.x, p.y));
        unique.dedup();
        assert_eq!(unique.len(), p.len());
        assert_eq!(p, layered(&d));
        assert!(p.iter().all(|p| p.x >= MARGIN && p.y >= MARGIN));
    }

    #[test]
    fn barycentres_uncross_two_chains() {
        // s → x1 → y2 and s → x2 → y1, with y1 listed first: y1 must end up beside x2's row.
        let d = def(
            &["s", "x1", "x2", "y1", "y2"],
            &[("s", "x1"), ("s", "x2"), ("x1", "y2"), ("x2", "y1")],
        );
        let p = layered(&d);
        let row = |i: usize| p[i].y;
        assert_eq!(row(1) < row(2), row(4) < row(3), "x1 and y2 on the same side");
    }

    #[test]
    fn empty_and_hostile_definitions_do_not_panic() {
        assert!(layered(&def(&[], &[])).is_empty());
        let names: Vec<String> = (0..2000).map(|i| format!("s{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let chain: Vec<(&str, &str)> = refs.windows(2).map(|w| (w[0], w[1])).collect();
        let p = layered(&def(&refs, &chain));
        assert_eq!(column(p[1999]), 1999);
    }
}
