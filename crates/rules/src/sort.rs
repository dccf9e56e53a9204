//! The engine's sorts: the standard library's natively; in the browser builds, one shared sort.
//!
//! In wasm each use of a standard sort is its own copy of it, specialised for the element and
//! the comparison: about 3 KB each, 26 KB of the JavaScript package for nine uses. There,
//! [`by_indices`] orders the positions of the elements with the one copy for `usize`, then
//! moves the elements into place. The order is the same on both targets: a stable sort by the
//! same comparison has one result.

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

/// Moves the `n` first elements by `compare` (a total order) to the front of `v`, in any
/// order, as `select_nth_unstable_by(n - 1, ..)` does; all of `v` if it has no more.
#[inline]
pub fn first_by<T>(v: &mut [T], n: usize, mut compare: impl FnMut(&T, &T) -> Ordering) {
    if cfg!(target_arch = "wasm32") {
        by_indices(v, &mut compare);
    } else if let Some(nth) = n.checked_sub(1).filter(|&nth| nth < v.len()) {
        v.select_nth_unstable_by(nth, compare);
    }
}

/// The positions `0..len` in the order `compare` (of two positions) sorts them, stably.
fn order(len: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|a, b| compare(*a, *b));
    order
}

/// Sorts `v` stably by `compare` through [`order`]: the elements' positions are sorted, then
/// each cycle of that permutation is put in place by swaps (each element moves once).
pub fn by_indices<T>(v: &mut [T], compare: &mut impl FnMut(&T, &T) -> Ordering) {
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
