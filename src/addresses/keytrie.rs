//! The trie of the division dictionary's keys, laid out for the cache of the parse.
//!
//! A parse walks the trie at two or three text positions per address, one character per step,
//! and each step is a load that depends on the one before. In a double-array trie the nodes of
//! the few thousand names that real addresses mostly start with (provinces, cities, counties)
//! sit scattered among those of 100,000 township and community names, and most steps miss
//! the L2 cache (half of the walk's samples sat on the load of a child node). Here:
//! - a table of the keys' first two characters leads straight to the node after them (one
//!   probe instead of two steps, and exact where a bitmap of pairs is not);
//! - the nodes are numbered hot first: every node whose subtree holds a key of rank 0 (the
//!   caller's rank: the division level) is placed before any other, so that the hot part is a
//!   few hundred kilobytes in a row;
//! - a node's children are contiguous and sorted by character (12 bytes a node), their
//!   characters in an array of their own, compared four at a time without a branch per child.
//!
//! Keys of one character are not kept: the parse asks only for keys of two or more.

use super::parse::decode;

/// No key ends at this node.
const NONE: u32 = u32::MAX;

/// A node below the first two characters; the character that leads to it is in `labels` at
/// the same index.
#[derive(Clone, Copy)]
struct TNode {
    /// the children: `nodes[first .. first + count]`, sorted by label
    first: u32,
    count: u32,
    /// the value of the key that ends here, or `NONE`
    value: u32,
}

/// Bits of a pair slot's key that hold the number of children.
const COUNT_BITS: u32 = 22;

/// The node after two characters, in the pair table: the walk's first load is also its first
/// step.
#[derive(Clone, Copy, Default)]
struct PairSlot {
    /// (first char << 21 | second char) << 22 | number of children; 0: empty
    key: u64,
    first: u32,
    value: u32,
}

#[derive(Default)]
pub struct KeyTrie {
    /// open addressing, linear probing
    pairs: Vec<PairSlot>,
    /// `64 - log2(pairs.len())`
    shift: u32,
    nodes: Vec<TNode>,
    /// the character of each node, then `LANES` padding: a node's children are searched
    /// `LANES` labels at a time, without a branch per child
    labels: Vec<u32>,
}

/// Labels compared at once.
const LANES: usize = 4;

/// A node of the trie while building.
struct BNode {
    label: u32,
    children: Vec<u32>,
    value: u32,
    /// lowest rank of a key in the subtree
    rank: u8,
}

#[inline]
fn pair_key(a: u32, b: u32) -> u64 {
    (a as u64) << 21 | b as u64
}

impl KeyTrie {
    /// Builds from keys sorted by bytes and unique, each with its value (not `u32::MAX`) and a
    /// rank (0 hottest). Fails on keys out of order, keys with a NUL character, and more than
    /// 4 million characters after one pair.
    pub fn from_records<'a>(
        records: impl IntoIterator<Item = (&'a str, u32, u8)>,
    ) -> Result<KeyTrie, String> {
        let mut prev: Option<&str> = None;
        let mut b = vec![BNode {
            label: 0,
            children: Vec::new(),
            value: NONE,
            rank: u8::MAX,
        }];
        for (key, value, rank) in records {
            if value == NONE {
                return Err(format!("key {key}: value u32::MAX is reserved"));
            }
            if prev.is_some_and(|p| p >= key) || key.contains('\0') {
                return Err(format!("key {key}: out of order, repeated or with a NUL"));
            }
            prev = Some(key);
            let mut n = 0usize;
            for c in key.chars() {
                let c = c as u32;
                // sorted keys: a child with this label, if any, is the last one added
                let last = b[n].children.last().copied();
                n = match last {
                    Some(l) if b[l as usize].label == c => l as usize,
                    _ => {
                        let id = b.len() as u32;
                        b.push(BNode {
                            label: c,
                            children: Vec::new(),
                            value: NONE,
                            rank,
                        });
                        b[n].children.push(id);
                        id as usize
                    }
                };
                b[n].rank = b[n].rank.min(rank);
            }
            b[n].value = value;
        }
        // the nodes after two characters, hot first
        let mut second: Vec<(u8, u32, u32, u32)> = Vec::new();
        for &c1 in &b[0].children {
            for &c2 in &b[c1 as usize].children {
                let (n1, n2) = (&b[c1 as usize], &b[c2 as usize]);
                second.push((n2.rank, n1.label, n2.label, c2));
            }
        }
        second.sort_unstable();
        let mut nodes: Vec<TNode> = Vec::with_capacity(b.len());
        let mut labels: Vec<u32> = Vec::with_capacity(b.len() + LANES);
        // build nodes waiting for their children's block: (rank, order, build id, where)
        let mut heap = std::collections::BinaryHeap::new();
        let mut order = 0u64;
        let slots = (second.len() * 3 / 2).max(2).next_power_of_two();
        let mut pairs = vec![PairSlot::default(); slots];
        let shift = 64 - slots.trailing_zeros();
        let mask = slots - 1;
        // where a node's children go: a pair slot or a node
        #[derive(PartialEq, Eq, PartialOrd, Ord)]
        enum At {
            Pair(usize),
            Node(u32),
        }
        for &(rank, a, c, id) in &second {
            let key = pair_key(a, c);
            let mut i = slot(key, shift);
            while pairs[i].key != 0 {
                i = (i + 1) & mask;
            }
            pairs[i] = PairSlot {
                key: key << COUNT_BITS,
                first: 0,
                value: b[id as usize].value,
            };
            heap.push(std::cmp::Reverse((rank, order, id, At::Pair(i))));
            order += 1;
        }
        // each node's children as one block, the hottest waiting node first
        while let Some(std::cmp::Reverse((_, _, id, at))) = heap.pop() {
            let kids = std::mem::take(&mut b[id as usize].children);
            if kids.is_empty() {
                continue;
            }
            let first = nodes.len() as u32;
            match at {
                At::Pair(_) if kids.len() >= 1 << COUNT_BITS => {
                    return Err(format!("{} characters after one pair", kids.len()));
                }
                At::Pair(i) => {
                    pairs[i].key |= kids.len() as u64;
                    pairs[i].first = first;
                }
                At::Node(n) => {
                    nodes[n as usize].first = first;
                    nodes[n as usize].count = kids.len() as u32;
                }
            }
            for k in kids {
                let kn = &b[k as usize];
                let kf = nodes.len() as u32;
                labels.push(kn.label);
                nodes.push(TNode {
                    first: 0,
                    count: 0,
                    value: kn.value,
                });
                heap.push(std::cmp::Reverse((kn.rank, order, k, At::Node(kf))));
                order += 1;
            }
        }
        labels.extend([NONE; LANES]);
        Ok(KeyTrie {
            pairs,
            shift,
            nodes,
            labels,
        })
    }

    /// The slot of the two characters `a`, `c`.
    #[inline]
    fn pair(&self, a: u32, c: u32) -> Option<&PairSlot> {
        let key = pair_key(a, c);
        let mask = self.pairs.len().wrapping_sub(1);
        let mut i = slot(key, self.shift);
        loop {
            let s = self.pairs.get(i)?;
            if s.key == 0 {
                return None;
            }
            if s.key >> COUNT_BITS == key {
                return Some(s);
            }
            i = (i + 1) & mask;
        }
    }

    /// Every key that starts `b` with at least `min` (≥ 2) characters, shortest first:
    /// `f(value, characters, bytes)`. `(a, c)` are the first two characters of `b` and `at` the
    /// byte offset after them.
    #[inline]
    pub fn prefixes(
        &self,
        (a, c): (u32, u32),
        b: &[u8],
        mut at: usize,
        min: u32,
        mut f: impl FnMut(u32, u32, u32),
    ) {
        let Some(p) = self.pair(a, c) else {
            return;
        };
        if p.value != NONE && min <= 2 {
            f(p.value, 2, at as u32);
        }
        let (mut first, mut count) = (p.first, (p.key & ((1 << COUNT_BITS) - 1)) as u32);
        let mut chars = 2;
        while count != 0 {
            let Some((ch, len)) = b.get(at..).and_then(decode) else {
                return;
            };
            let Some(i) = self.child(first, count, ch) else {
                return;
            };
            let k = self.nodes[i as usize];
            at += len;
            chars += 1;
            if k.value != NONE && chars >= min {
                f(k.value, chars, at as u32);
            }
            (first, count) = (k.first, k.count);
        }
    }

    /// The child labelled `ch` among `nodes[first .. first + count]` (count > 0).
    #[inline]
    fn child(&self, first: u32, count: u32, ch: u32) -> Option<u32> {
        let end = first + count;
        if count > 4 * LANES as u32 {
            let kids = &self.labels[first as usize..end as usize];
            return kids.binary_search(&ch).ok().map(|i| first + i as u32);
        }
        let mut at = first;
        loop {
            // the first lane that matches (labels in a block are distinct and sorted, so a
            // match past the block comes after any match in it)
            let Ok(l) = <&[u32; LANES]>::try_from(&self.labels[at as usize..at as usize + LANES])
            else {
                return None;
            };
            let mut m = 0u32;
            for (j, &x) in l.iter().enumerate() {
                m |= u32::from(x == ch) << j;
            }
            if m != 0 {
                let i = at + m.trailing_zeros();
                return (i < end).then_some(i);
            }
            at += LANES as u32;
            if at >= end {
                return None;
            }
        }
    }

    /// Heap bytes of the pair table, the nodes and their labels.
    pub fn heap_bytes(&self) -> usize {
        self.pairs.capacity() * size_of::<PairSlot>()
            + self.nodes.capacity() * size_of::<TNode>()
            + self.labels.capacity() * size_of::<u32>()
    }
}

#[inline]
fn slot(key: u64, shift: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(t: &KeyTrie, s: &str, min: u32) -> Vec<(u32, u32, u32)> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let Some((a, la)) = decode(b) else {
            return out;
        };
        let Some((c, lc)) = decode(&b[la..]) else {
            return out;
        };
        t.prefixes((a, c), b, la + lc, min, |v, n, at| out.push((v, n, at)));
        out
    }

    #[test]
    fn bad_records_are_refused() {
        let err = |r: &[(&'static str, u32, u8)]| KeyTrie::from_records(r.iter().copied()).err();
        assert!(err(&[("西湖", 1, 0), ("杭州", 2, 0)])
            .unwrap()
            .contains("杭州"));
        assert!(err(&[("杭州", 1, 0), ("杭州", 2, 0)]).is_some());
        assert!(err(&[("杭\0州", 1, 0)]).is_some());
        assert!(err(&[("杭州", u32::MAX, 0)]).is_some());
        assert!(err(&[("杭州", 1, 0), ("西湖", 2, 1)]).is_none());
    }

    #[test]
    fn prefixes_are_every_key_that_starts_the_text() {
        let mut keys = vec![
            ("杭州", 1, 0),
            ("杭州市", 2, 0),
            ("杭州湾新区", 3, 1),
            ("西湖", 4, 0),
            ("西湖区", 5, 0),
            ("西湖街道", 6, 1),
            ("a1", 7, 1),
            ("a12", 9, 1),
            ("杭", 8, 0),
        ];
        keys.sort_by(|a, b| a.0.cmp(b.0));
        let t = KeyTrie::from_records(keys.iter().copied()).unwrap();
        assert_eq!(all(&t, "杭州市西湖区", 2), vec![(1, 2, 6), (2, 3, 9)]);
        assert_eq!(all(&t, "杭州市西湖区", 3), vec![(2, 3, 9)]);
        assert_eq!(all(&t, "杭州湾新区管委会", 2), vec![(1, 2, 6), (3, 5, 15)]);
        assert_eq!(all(&t, "杭州湾新", 2), vec![(1, 2, 6)]);
        assert_eq!(all(&t, "西湖街道办", 2), vec![(4, 2, 6), (6, 4, 12)]);
        assert_eq!(all(&t, "a1b", 2), vec![(7, 2, 2)]);
        assert_eq!(all(&t, "a12", 2), vec![(7, 2, 2), (9, 3, 3)]);
        // one-character keys are not kept; unknown pairs give nothing
        assert_eq!(all(&t, "杭一", 2), vec![]);
        assert_eq!(all(&t, "上海", 2), vec![]);
        // the children of pairs that start a rank-0 key come first, each block sorted
        let block = |a: char, c: char| t.pair(a as u32, c as u32).unwrap().first as usize;
        let (hz, xh, a1) = (block('杭', '州'), block('西', '湖'), block('a', '1'));
        assert_eq!(t.labels[hz..hz + 2], ['市' as u32, '湾' as u32]);
        assert_eq!(t.labels[xh..xh + 2], ['区' as u32, '街' as u32]);
        assert!(a1 > hz && a1 > xh, "{a1} {hz} {xh}");
    }

    #[test]
    fn children_are_found_in_blocks_of_every_size() {
        // blocks of 1, 3, 10 (searched four labels at a time) and 200 children (binary search)
        let mut owned: Vec<(String, u32, u8)> = Vec::new();
        for (stem, n) in [("一村", 1u32), ("三村", 3), ("十村", 10), ("百村", 200)] {
            for i in 0..n {
                let c = char::from_u32(0x4E00 + 2 * i).unwrap();
                owned.push((format!("{stem}{c}"), owned.len() as u32, 0));
            }
        }
        owned.sort_by(|a, b| a.0.cmp(&b.0));
        let t = KeyTrie::from_records(owned.iter().map(|(k, v, r)| (k.as_str(), *v, *r))).unwrap();
        for (k, v, _) in &owned {
            assert_eq!(all(&t, k, 3), vec![(*v, 3, k.len() as u32)], "{k}");
            // a character between two labels of the block, and one past the last
            for off in [1, 2 * 200 + 1] {
                let last = k.chars().last().unwrap() as u32 + off;
                let miss: String = k.chars().take(2).chain(char::from_u32(last)).collect();
                assert_eq!(all(&t, &miss, 2), vec![], "{miss}");
            }
        }
        // the labels read past a block belong to the next one (三村丂 is a key, 一村丂 not)
        assert_eq!(all(&t, "一村丂", 2), vec![]);
        assert_eq!(all(&t, "三村丂", 2).len(), 1);
    }
}
