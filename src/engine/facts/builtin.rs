//! The built-in collectors. Commands are plain POSIX `sh` reading Linux's
//! /proc and standard tools; parsers are pure and tested on sample text.

use std::sync::Arc;

use super::{Collector, Facts};

pub const NAMES: [&str; 6] = ["os", "uptime", "memory", "disk", "net", "cpu"];

pub fn all() -> Vec<Arc<dyn Collector>> {
    vec![
        Arc::new(Os),
        Arc::new(Uptime),
        Arc::new(Memory),
        Arc::new(Disk),
        Arc::new(Net),
        Arc::new(Cpu),
    ]
}

/// Split `key=value` lines (the shape the os collector prints).
fn kv_lines(text: &str) -> Facts {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .collect()
}

fn fmt1(x: f64) -> String {
    format!("{x:.1}")
}

pub struct Os;

impl Collector for Os {
    fn name(&self) -> &str {
        "os"
    }
    fn command(&self) -> &str {
        // os-release is read in a subshell so its variables stay there.
        "echo \"system=$(uname -s)\"; echo \"kernel=$(uname -r)\"; \
         echo \"arch=$(uname -m)\"; echo \"hostname=$(uname -n)\"; \
         if [ -r /etc/os-release ]; then (. /etc/os-release; echo \"name=${PRETTY_NAME:-$NAME}\"); fi"
    }
    fn parse(&self, out: &str) -> Result<Facts, String> {
        let mut f = kv_lines(out);
        if !f.contains_key("kernel") {
            return Err("no kernel release in the output of uname".into());
        }
        if !f.contains_key("name") {
            // No os-release (BSD, macOS): the system name stands in.
            let system = f.get("system").cloned().unwrap_or_default();
            f.insert("name".into(), system);
        }
        Ok(f)
    }
}

pub struct Uptime;

impl Collector for Uptime {
    fn name(&self) -> &str {
        "uptime"
    }
    fn command(&self) -> &str {
        "cat /proc/uptime /proc/loadavg"
    }
    fn parse(&self, out: &str) -> Result<Facts, String> {
        let mut lines = out.lines();
        let up = lines
            .next()
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or("no seconds in /proc/uptime")?;
        let loads: Vec<f64> = lines
            .next()
            .unwrap_or("")
            .split_whitespace()
            .take(3)
            .filter_map(|v| v.parse().ok())
            .collect();
        let [l1, l5, l15] = loads[..] else {
            return Err("no load averages in /proc/loadavg".into());
        };
        let secs = up as u64;
        let mut f = Facts::new();
        f.insert("seconds".into(), secs.to_string());
        f.insert("human".into(), human_uptime(secs));
        f.insert("load1".into(), format!("{l1:.2}"));
        f.insert("load5".into(), format!("{l5:.2}"));
        f.insert("load15".into(), format!("{l15:.2}"));
        Ok(f)
    }
}

/// `3d 4h`, `5h 12m`, `7m`.
fn human_uptime(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

pub struct Memory;

impl Collector for Memory {
    fn name(&self) -> &str {
        "memory"
    }
    fn command(&self) -> &str {
        "cat /proc/meminfo"
    }
    fn parse(&self, out: &str) -> Result<Facts, String> {
        let kib = |key: &str| -> Option<f64> {
            out.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        };
        let total = kib("MemTotal").ok_or("no MemTotal in /proc/meminfo")?;
        // Kernels before 3.14 have no MemAvailable; free + buffers + cache
        // is what `free` used then.
        let avail = kib("MemAvailable")
            .or_else(|| Some(kib("MemFree")? + kib("Buffers")? + kib("Cached")?))
            .ok_or("no MemAvailable or MemFree in /proc/meminfo")?;
        let mut f = Facts::new();
        f.insert("total_mib".into(), format!("{:.0}", total / 1024.0));
        f.insert("available_mib".into(), format!("{:.0}", avail / 1024.0));
        let used = if total > 0.0 {
            100.0 * (total - avail) / total
        } else {
            0.0
        };
        f.insert("used_pct".into(), fmt1(used));
        if let (Some(st), Some(sf)) = (kib("SwapTotal"), kib("SwapFree")) {
            f.insert("swap_total_mib".into(), format!("{:.0}", st / 1024.0));
            let pct = if st > 0.0 {
                100.0 * (st - sf) / st
            } else {
                0.0
            };
            f.insert("swap_used_pct".into(), fmt1(pct));
        }
        Ok(f)
    }
}

pub struct Disk;

/// File systems that hold no data of their own: counting them would make
/// every host look like it has a dozen empty disks.
const PSEUDO_FS: [&str; 9] = [
    "tmpfs", "devtmpfs", "udev", "none", "shm", "proc", "sysfs", "cgroup", "cgroup2",
];

impl Collector for Disk {
    fn name(&self) -> &str {
        "disk"
    }
    fn command(&self) -> &str {
        // df exits 1 when one mount is unreadable but still lists the
        // others; an empty list is the parser's error.
        "df -P -k 2>/dev/null; exit 0"
    }
    fn parse(&self, out: &str) -> Result<Facts, String> {
        let mut f = Facts::new();
        let mut worst: Option<(f64, String)> = None;
        for line in out.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 6 {
                continue;
            }
            let (fs, size, avail, cap) = (cols[0], cols[1], cols[3], cols[4]);
            // A mount point may contain spaces: it is the rest of the line.
            let mount = cols[5..].join(" ");
            let size: f64 = size.parse().unwrap_or(0.0);
            if PSEUDO_FS.contains(&fs) || size == 0.0 {
                continue;
            }
            let Some(pct) = cap.strip_suffix('%').and_then(|c| c.parse::<f64>().ok()) else {
                continue;
            };
            let avail: f64 = avail.parse().unwrap_or(0.0);
            let gib = |k: f64| fmt1(k / 1024.0 / 1024.0);
            f.insert(format!("{mount}.used_pct"), format!("{pct:.0}"));
            f.insert(format!("{mount}.size_gib"), gib(size));
            f.insert(format!("{mount}.avail_gib"), gib(avail));
            if worst.as_ref().is_none_or(|(w, _)| pct > *w) {
                worst = Some((pct, mount));
            }
        }
        let (pct, mount) = worst.ok_or("df listed no file systems")?;
        f.insert("max_used_pct".into(), format!("{pct:.0}"));
        f.insert("max_mount".into(), mount);
        Ok(f)
    }
}

pub struct Net;

impl Collector for Net {
    fn name(&self) -> &str {
        "net"
    }
    fn command(&self) -> &str {
        "if command -v ip >/dev/null 2>&1; then ip -o addr show; \
         else echo \"hostname-I $(hostname -I)\"; fi"
    }
    fn parse(&self, out: &str) -> Result<Facts, String> {
        let mut by_iface: Vec<(String, Vec<String>)> = Vec::new();
        for line in out.lines() {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (iface, addrs): (&str, Vec<&str>) = match cols.as_slice() {
                // `ip -o addr`: "2: eth0 inet 10.0.0.5/24 brd ... scope global eth0"
                [_, iface, fam, addr, ..] if *fam == "inet" || *fam == "inet6" => {
                    (iface, vec![*addr])
                }
                ["hostname-I", rest @ ..] => ("all", rest.to_vec()),
                _ => continue,
            };
            let addrs: Vec<String> = addrs
                .into_iter()
                .filter(|a| !is_loopback_or_link_local(a))
                .map(str::to_string)
                .collect();
            if addrs.is_empty() || iface == "lo" {
                continue;
            }
            match by_iface.iter_mut().find(|(i, _)| i == iface) {
                Some((_, v)) => v.extend(addrs),
                None => by_iface.push((iface.to_string(), addrs)),
            }
        }
        let mut f = Facts::new();
        let all: Vec<String> = by_iface.iter().flat_map(|(_, a)| a.clone()).collect();
        let plain = |a: &String| a.split('/').next().unwrap_or(a).to_string();
        if let Some(v4) = all.iter().find(|a| !a.contains(':')) {
            f.insert("ipv4".into(), plain(v4));
        }
        if let Some(v6) = all.iter().find(|a| a.contains(':')) {
            f.insert("ipv6".into(), plain(v6));
        }
        f.insert("addrs".into(), all.join(", "));
        for (iface, addrs) in by_iface {
            f.insert(format!("{iface}.addrs"), addrs.join(", "));
        }
        Ok(f)
    }
}

fn is_loopback_or_link_local(addr: &str) -> bool {
    let ip = addr.split('/').next().unwrap_or(addr);
    ip.starts_with("127.") || ip == "::1" || ip.to_ascii_lowercase().starts_with("fe80:")
}

pub struct Cpu;

impl Collector for Cpu {
    fn name(&self) -> &str {
        "cpu"
    }
    fn command(&self) -> &str {
        "echo \"count=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)\"; \
         sed -n 's/^model name[[:space:]]*:[[:space:]]*/model=/p' /proc/cpuinfo 2>/dev/null | head -n 1"
    }
    fn parse(&self, out: &str) -> Result<Facts, String> {
        let f = kv_lines(out);
        match f.get("count").map(|c| c.parse::<u32>()) {
            Some(Ok(n)) if n > 0 => Ok(f),
            _ => Err("no processor count from getconf or nproc".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_reads_uname_and_os_release() {
        let f = Os
            .parse(
                "system=Linux\nkernel=6.1.0\narch=x86_64\nhostname=n1\nname=Debian GNU/Linux 12\n",
            )
            .unwrap();
        assert_eq!(f["name"], "Debian GNU/Linux 12");
        assert_eq!(f["kernel"], "6.1.0");
        let f = Os.parse("system=FreeBSD\nkernel=14.0\n").unwrap();
        assert_eq!(f["name"], "FreeBSD");
        assert!(Os.parse("").is_err());
    }

    #[test]
    fn uptime_and_load() {
        let f = Uptime
            .parse("273906.52 500000.1\n0.52 0.58 1.59 1/234 5678\n")
            .unwrap();
        assert_eq!(f["seconds"], "273906");
        assert_eq!(f["human"], "3d 4h");
        assert_eq!(f["load1"], "0.52");
        assert_eq!(f["load15"], "1.59");
        assert_eq!(human_uptime(400), "6m");
        assert_eq!(human_uptime(3 * 3600 + 120), "3h 2m");
        assert!(Uptime.parse("12.0 1.0\n").unwrap_err().contains("load"));
    }

    #[test]
    fn memory_uses_available_or_the_old_sum() {
        let f = Memory
            .parse("MemTotal:  2048000 kB\nMemFree: 100 kB\nMemAvailable: 512000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n")
            .unwrap();
        assert_eq!(f["total_mib"], "2000");
        assert_eq!(f["available_mib"], "500");
        assert_eq!(f["used_pct"], "75.0");
        assert_eq!(f["swap_used_pct"], "0.0");
        let old = Memory
            .parse("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 300 kB\n")
            .unwrap();
        assert_eq!(old["used_pct"], "50.0");
        assert!(Memory.parse("nothing").is_err());
    }

    #[test]
    fn disk_skips_pseudo_file_systems_and_keeps_spaces_in_mounts() {
        let out = "Filesystem 1024-blocks Used Available Capacity Mounted on\n\
                   devtmpfs 1000 0 1000 0% /dev\n\
                   /dev/vda 264212084 32989788 62296100 35% /\n\
                   /dev/vdb 1048576 996147 52429 95% /mnt/my data\n\
                   tmpfs 100 100 0 100% /run\n";
        let f = Disk.parse(out).unwrap();
        assert_eq!(f["/.used_pct"], "35");
        assert_eq!(f["/mnt/my data.used_pct"], "95");
        assert_eq!(f["/mnt/my data.size_gib"], "1.0");
        assert_eq!(f["max_used_pct"], "95");
        assert_eq!(f["max_mount"], "/mnt/my data");
        assert!(!f.contains_key("/dev.used_pct"));
        assert!(!f.contains_key("/run.used_pct"));
        assert!(Disk.parse("Filesystem ...\n").is_err());
    }

    #[test]
    fn net_lists_addresses_without_loopback() {
        let out = "1: lo    inet 127.0.0.1/8 scope host lo\\ valid_lft forever\n\
                   1: lo    inet6 ::1/128 scope host \\ valid_lft forever\n\
                   4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\ x\n\
                   4: eth0    inet6 fd00::2/64 scope global nodad \\ x\n\
                   4: eth0    inet6 fe80::fc:ff:fe00:1/64 scope link \\ x\n";
        let f = Net.parse(out).unwrap();
        assert_eq!(f["ipv4"], "192.0.2.2");
        assert_eq!(f["ipv6"], "fd00::2");
        assert_eq!(f["eth0.addrs"], "192.0.2.2/24, fd00::2/64");
        assert!(!f.contains_key("lo.addrs"));
        let f = Net.parse("hostname-I 10.1.1.1 10.2.2.2\n").unwrap();
        assert_eq!(f["addrs"], "10.1.1.1, 10.2.2.2");
    }

    #[test]
    fn cpu_count_and_model() {
        let f = Cpu.parse("count=8\nmodel=AMD EPYC\n").unwrap();
        assert_eq!(f["count"], "8");
        assert_eq!(f["model"], "AMD EPYC");
        assert!(Cpu.parse("count=\n").is_err());
    }
}
