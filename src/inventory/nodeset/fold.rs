//! Names back into node-set notation, for display: `web01 web02 web03 db1`
//! → `db1,web[01-03]`. What [`fold`] prints must expand, with
//! [`super::expand`] and with ClusterShell's `nodeset -e`, to the same names.

use std::collections::BTreeMap;

/// A number as written: (value, digit count, original digits).
type Num = (u64, usize, String);

/// Fold names into ClusterShell-style ranges on their last run of digits:
/// `web01 web02 web03 db1` → `db1,web[01-03]`. Zero-padding is kept: numbers
/// only join a range when written with the same width (or both unpadded).
pub fn fold<S: AsRef<str>>(names: &[S]) -> String {
    let mut groups: BTreeMap<(String, String), Vec<Num>> = BTreeMap::new();
    let mut plain: Vec<String> = Vec::new();
    for name in names {
        let name = name.as_ref();
        match split_last_number(name) {
            Some((prefix, digits, suffix)) => match digits.parse::<u64>() {
                Ok(v) => groups
                    .entry((prefix.to_string(), suffix.to_string()))
                    .or_default()
                    .push((v, digits.len(), digits.to_string())),
                Err(_) => plain.push(name.to_string()),
            },
            None => plain.push(name.to_string()),
        }
    }
    let mut parts: Vec<String> = plain;
    for ((prefix, suffix), mut nums) in groups {
        nums.sort();
        nums.dedup();
        if nums.len() == 1 {
            parts.push(format!("{prefix}{}{suffix}", nums[0].2));
            continue;
        }
        let ranges = ranges(&nums);
        parts.push(format!("{prefix}[{}]{suffix}", ranges.join(",")));
    }
    parts.sort();
    parts.dedup();
    parts.join(",")
}

fn ranges(nums: &[Num]) -> Vec<String> {
    // Width matters only for padded numbers ("007" vs "7").
    let padded = |n: &Num| n.2.starts_with('0') && n.2.len() > 1;
    let same_form = |a: &Num, b: &Num| padded(a) == padded(b) && (!padded(a) || a.1 == b.1);
    let mut out = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let mut j = i;
        while j + 1 < nums.len()
            && nums[j + 1].0 == nums[j].0 + 1
            && same_form(&nums[j + 1], &nums[i])
        {
            j += 1;
        }
        if j == i {
            out.push(nums[i].2.clone());
        } else {
            out.push(format!("{}-{}", nums[i].2, nums[j].2));
        }
        i = j + 1;
    }
    out
}

fn split_last_number(name: &str) -> Option<(&str, &str, &str)> {
    let bytes = name.as_bytes();
    let end = bytes.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |p| p + 1);
    let prefix = &name[..start];
    // Digits inside an address's brackets (`[fe80::1]`) are not a range:
    // `[fe80::[1-2]]` would not expand back.
    if prefix.matches('[').count() > prefix.matches(']').count() {
        return None;
    }
    Some((prefix, &name[start..end], &name[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_consecutive_and_keeps_padding() {
        assert_eq!(fold(&["web01", "web02", "web03", "web07"]), "web[01-03,07]");
        assert_eq!(fold(&["n9", "n10", "n11"]), "n[9-11]");
        assert_eq!(fold(&["web1", "web01"]), "web[1,01]");
    }

    #[test]
    fn folds_on_last_number_and_keeps_strangers() {
        assert_eq!(
            fold(&["root@127.0.0.1:2202", "root@127.0.0.1:2201", "db"]),
            "db,root@127.0.0.1:[2201-2202]"
        );
        assert_eq!(fold(&["rack1-n4.dc"]), "rack1-n4.dc");
        assert_eq!(fold(&["a", "a"]), "a");
    }

    #[test]
    fn digits_inside_an_address_are_not_folded() {
        assert_eq!(fold(&["[fe80::2]", "[fe80::1]"]), "[fe80::1],[fe80::2]");
        let back = super::super::expand("[fe80::1],[fe80::2]", &super::super::NoGroups);
        assert_eq!(back.map(|s| s.len()), Ok(2));
    }
}
