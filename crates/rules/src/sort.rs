//! The engine's sorts: the standard library's natively; in the browser builds, one shared sort.
//!
//! In wasm each use of a standard sort is its own copy of it, specialised for the element and
//! the comparison: about 3 KB each, 26 KB of the JavaScript package for nine uses. There,
//! [`by_indices`] sorts a short slice by insertion (a few dozen bytes of code per use, and no
//! allocation on the checkout's short lists) and a longer one by ordering the positions of its
//! elements with the one copy of the standard sort for `usize`, then moving the elements into
//! place. The order is the same on both targets: a stable sort by one comparison has one
//! result.

use std::cmp::Ordering;

/// Sorts `v` stably by `compare`, as `slice::sort_by` does.
#[inline]
pub fn sort_by<T>(v: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    if cfg!(target_arch = "wasm32") {
        by_indices(v, &mut compare);
    } else {
        v.sort_by(compare);
    }
}

/// Sorts `v` stably by a key, as `slice::sort_by_key` does.
#[inline]
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` in ascending order, as `slice::sort` does.
#[inline]
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// Sorts `v` in ascending order, as `slice::sort_unstable` does (for elements that are equal
/// only when they are the same, such as numbers: then the order is the same as a stable sort's).
#[inline]
pub fn sort_unstable<T: Ord>(v: &mut [T]) {
    if cfg!(target_arch = "wasm32") {
        by_indices(v, &mut T::cmp);
    } else {
        v.sort_unstable();
    }
}

/// The positions `0..len` in the order `compare` (of two positions) sorts them, stably.
fn order(len: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|a, b| compare(*a, *b));
    order
}

/// Up to this many elements, [`by_indices`] sorts in place by insertion: a cart's lines or
/// lists, say, in a fraction of the time the positions' sort takes to set up.
const SHORT: usize = 24;

/// Sorts `v` stably by `compare`, by insertion: each element moves left past those greater.
fn insertion<T>(v: &mut [T], compare: &mut impl FnMut(&T, &T) -> Ordering) {
    for i in 1..v.len() {
        let mut j = i;
        while let Some(before) = j.checked_sub(1) {
            match (v.get(before), v.get(j)) {
                (Some(a), Some(b)) if compare(a, b) == Ordering::Greater => v.swap(before, j),
                _ => break,
            }
            j = before;
        }
    }
}

/// Sorts `v` stably by `compare`: a short slice by insertion; else through [`order`], the
/// elements' positions sorted, then each cycle of that permutation put in place by swaps (each
/// element moves once).
pub fn by_indices<T>(v: &mut [T], compare: &mut impl FnMut(&T, &T) -> Ordering) {
    if v.len() <= SHORT {
        return insertion(v, compare);
    }
    let order = order(v.len(), &mut |a, b| match (v.get(a), v.get(b)) {
        (Some(a), Some(b)) => compare(a, b),
        _ => Ordering::Equal,
    });
    // Position `k` takes the element at `order[k]`: following a cycle from its start, each swap
    // puts one element in its place and carries the start's element on, to the cycle's end.
    let mut placed = vec![false; v.len()];
    for start in 0..v.len() {
        if placed.get(start) != Some(&false) {
            continue;
        }
        let mut k = start;
        while let Some(slot) = placed.get_mut(k) {
            *slot = true;
            match order.get(k) {
                Some(&next) if next != start && next < v.len() => {
                    v.swap(k, next);
                    k = next;
                }
                _ => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sorts_strings_that_are_not_copy() {
        let mut v: Vec<String> = ["pear", "apple", "fig", "apple", "kiwi"].map(String::from).into();
        by_indices(&mut v, &mut |a: &String, b: &String| a.cmp(b));
        assert_eq!(v, ["apple", "apple", "fig", "kiwi", "pear"]);
    }
}
