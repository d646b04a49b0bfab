//! Entity files: bgpmon JSON, RPKI ROA exports (rpki-client JSON) and
//! prefix-to-AS lists (pyasn / CAIDA), plain, gzip or bzip2.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::Context;
use bgpmon_proto::{prefix_to_proto, v1};
use clap::ValueEnum;
use ipnet::IpNet;
use serde::Deserialize;

/// The format of an entity file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EntityFormat {
    /// bgpmon entities: a JSON array, or one object per line, each with
    /// `name`, `contact`, `origin_ases` and `prefixes` (strings, or objects
    /// with `prefix` and `max_length`).
    Json,
    /// An rpki-client JSON export: each validated ROA payload (`asn`,
    /// `prefix`, `maxLength`) goes to the entity `AS<asn>` (contact
    /// `rpki`), and each ASPA (`customer_asid`, `providers`) becomes the
    /// entity `aspa:AS<customer>` (contact `rpki-aspa`) whose origin ASes
    /// are the providers.
    Roa,
    /// A prefix-to-AS list, one `prefix<TAB>asn` (pyasn) or
    /// `address<TAB>length<TAB>asn` (CAIDA) per line; `;` and `#` start
    /// comments; each origin AS becomes the entity `AS<asn>`.
    Pfx2as,
}

/// Opens `path`, decompressing gzip and bzip2 by their magic bytes.
fn open(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("cannot open {}; check the path", path.display()))?;
    let mut magic = [0u8; 3];
    let n = file.read(&mut magic)?;
    let file = std::io::Cursor::new(magic[..n].to_vec()).chain(file);
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file))),
        [b'B', b'Z', b'h'] => Box::new(BufReader::new(bzip2::read::MultiBzDecoder::new(file))),
        _ => Box::new(BufReader::new(file)),
    })
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PrefixInput {
    Plain(String),
    Full {
        prefix: String,
        max_length: Option<u8>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntityInput {
    name: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    origin_ases: Vec<u32>,
    #[serde(default)]
    prefixes: Vec<PrefixInput>,
}

fn owned(prefix: &str, max_length: Option<u8>, at: &str) -> anyhow::Result<v1::OwnedPrefix> {
    let net: IpNet = prefix
        .trim()
        .parse()
        .with_context(|| format!("{at}: {prefix:?} is not a prefix; write it as 192.0.2.0/24"))?;
    let net = net.trunc();
    let max = max_length.unwrap_or(net.prefix_len());
    if max < net.prefix_len() || max > net.max_prefix_len() {
        anyhow::bail!(
            "{at}: max length {max} is out of range for {net}; use {}..={}",
            net.prefix_len(),
            net.max_prefix_len()
        );
    }
    Ok(v1::OwnedPrefix {
        prefix: Some(prefix_to_proto(&net)),
        max_length: u32::from(max),
    })
}

fn from_input(e: EntityInput, at: &str) -> anyhow::Result<v1::Entity> {
    let prefixes = e
        .prefixes
        .into_iter()
        .map(|p| match p {
            PrefixInput::Plain(s) => owned(&s, None, at),
            PrefixInput::Full { prefix, max_length } => owned(&prefix, max_length, at),
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(v1::Entity {
        name: e.name,
        contact: e.contact,
        origin_ases: e.origin_ases,
        prefixes,
    })
}

fn read_json(path: &Path) -> anyhow::Result<Vec<v1::Entity>> {
    let mut text = String::new();
    open(path)?.read_to_string(&mut text)?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let list: Vec<EntityInput> = serde_json::from_str(trimmed)
            .with_context(|| format!("{} is not a JSON array of entities", path.display()))?;
        return list
            .into_iter()
            .enumerate()
            .map(|(i, e)| from_input(e, &format!("{} entity {}", path.display(), i + 1)))
            .collect();
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let at = format!("{}:{}", path.display(), i + 1);
            let e: EntityInput = serde_json::from_str(line)
                .with_context(|| format!("{at}: not an entity object"))?;
            from_input(e, &at)
        })
        .collect()
}

#[derive(Deserialize)]
struct RoaExport {
    roas: Vec<Roa>,
    #[serde(default)]
    aspas: Vec<AspaInput>,
}

/// One ASPA of an rpki-client export.
#[derive(Deserialize)]
struct AspaInput {
    customer_asid: u32,
    providers: Vec<ProviderInput>,
}

/// rpki-client 8 and later write provider ASes as numbers; earlier
/// versions wrote objects with an `asid` (and an address family).
#[derive(Deserialize)]
#[serde(untagged)]
enum ProviderInput {
    Number(u32),
    Object { asid: u32 },
}

#[derive(Deserialize)]
struct Roa {
    asn: RoaAsn,
    prefix: String,
    #[serde(rename = "maxLength")]
    max_length: u8,
}

/// rpki-client writes `13335`; other validators write `"AS13335"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RoaAsn {
    Number(u32),
    Text(String),
}

impl RoaAsn {
    fn value(&self) -> anyhow::Result<u32> {
        match self {
            Self::Number(n) => Ok(*n),
            Self::Text(s) => s
                .trim_start_matches("AS")
                .parse()
                .with_context(|| format!("{s:?} is not an AS number")),
        }
    }
}

/// Groups owned prefixes by origin AS into entities named `AS<asn>`.
fn by_origin(
    pairs: impl IntoIterator<Item = (u32, v1::OwnedPrefix)>,
    contact: &str,
) -> Vec<v1::Entity> {
    let mut groups: BTreeMap<u32, Vec<v1::OwnedPrefix>> = BTreeMap::new();
    for (asn, prefix) in pairs {
        groups.entry(asn).or_default().push(prefix);
    }
    groups
        .into_iter()
        .map(|(asn, prefixes)| v1::Entity {
            name: format!("AS{asn}"),
            contact: contact.to_owned(),
            origin_ases: vec![asn],
            prefixes,
        })
        .collect()
}

fn read_roa(path: &Path) -> anyhow::Result<Vec<v1::Entity>> {
    let export: RoaExport = serde_json::from_reader(open(path)?).with_context(|| {
        format!(
            "{} is not an rpki-client JSON export with a \"roas\" list",
            path.display()
        )
    })?;
    let pairs = export
        .roas
        .iter()
        .enumerate()
        .map(|(i, roa)| {
            let at = format!("{} roa {}", path.display(), i + 1);
            Ok((
                roa.asn.value()?,
                owned(&roa.prefix, Some(roa.max_length), &at)?,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut entities = by_origin(pairs, "rpki");
    let mut aspas: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for aspa in &export.aspas {
        let providers = aspas.entry(aspa.customer_asid).or_default();
        providers.extend(aspa.providers.iter().map(|p| match p {
            ProviderInput::Number(asid) | ProviderInput::Object { asid } => *asid,
        }));
    }
    entities.extend(aspas.into_iter().map(|(customer, mut providers)| {
        providers.sort_unstable();
        providers.dedup();
        v1::Entity {
            name: format!("aspa:AS{customer}"),
            contact: "rpki-aspa".to_owned(),
            origin_ases: providers,
            prefixes: Vec::new(),
        }
    }));
    Ok(entities)
}

fn read_pfx2as(path: &Path) -> anyhow::Result<Vec<v1::Entity>> {
    let mut pairs = Vec::new();
    for (i, line) in open(path)?.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        let at = format!("{}:{}", path.display(), i + 1);
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (prefix, origins) = match fields.as_slice() {
            [prefix, origins] => ((*prefix).to_owned(), *origins),
            [address, length, origins] => (format!("{address}/{length}"), *origins),
            _ => anyhow::bail!("{at}: expected `prefix<TAB>asn` or `address<TAB>length<TAB>asn`"),
        };
        let owned_prefix = owned(&prefix, None, &at)?;
        // CAIDA writes multi-origin prefixes as `a_b` and AS sets as `a,b`.
        for origin in origins.split(['_', ',']) {
            let asn: u32 = origin
                .parse()
                .with_context(|| format!("{at}: {origin:?} is not an AS number"))?;
            pairs.push((asn, owned_prefix.clone()));
        }
    }
    Ok(by_origin(pairs, "pfx2as"))
}

/// Reads every entity in `path`.
///
/// Returns an error naming the file, and the line or record, that does not
/// parse.
pub fn read_entities(path: &Path, format: EntityFormat) -> anyhow::Result<Vec<v1::Entity>> {
    match format {
        EntityFormat::Json => read_json(path),
        EntityFormat::Roa => read_roa(path),
        EntityFormat::Pfx2as => read_pfx2as(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn json_arrays_and_lines_both_read() {
        let array = write(
            r#"[{"name": "a", "origin_ases": [1], "prefixes": ["2001:db8::/32", {"prefix": "192.0.2.0/24", "max_length": 25}]}]"#,
        );
        let e = read_entities(array.path(), EntityFormat::Json).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].prefixes.len(), 2, "IPv6 prefixes are kept");
        assert_eq!(e[0].prefixes[1].max_length, 25);
        let lines = write("{\"name\": \"a\"}\n\n{\"name\": \"b\", \"contact\": \"x\"}\n");
        assert_eq!(
            read_entities(lines.path(), EntityFormat::Json)
                .unwrap()
                .len(),
            2
        );
        let bad = write("{\"name\": \"a\", \"prefixes\": [\"nope\"]}\n");
        let err = read_entities(bad.path(), EntityFormat::Json).unwrap_err();
        assert!(
            format!("{err:#}").contains(":1: \"nope\" is not a prefix"),
            "{err:#}"
        );
    }

    #[test]
    fn roas_group_by_origin() {
        let roa = write(
            r#"{"metadata": {}, "roas": [
            {"asn": 13335, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": "apnic"},
            {"asn": 13335, "prefix": "2606:4700::/32", "maxLength": 48, "ta": "arin"},
            {"asn": "AS64500", "prefix": "192.0.2.0/24", "maxLength": 24}
        ], "aspas": [
            {"customer_asid": 64500, "expires": 1, "providers": [64502, 64501]},
            {"customer_asid": 64510, "providers": [{"asid": 64511, "afi": "ipv4"}]}
        ]}"#,
        );
        let e = read_entities(roa.path(), EntityFormat::Roa).unwrap();
        assert_eq!(
            e.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["AS13335", "AS64500", "aspa:AS64500", "aspa:AS64510"]
        );
        assert_eq!(e[0].prefixes[1].max_length, 48);
        assert_eq!(
            (e[1].contact.as_str(), e[2].contact.as_str()),
            ("rpki", "rpki-aspa")
        );
        assert_eq!(e[2].origin_ases, [64501, 64502], "providers, sorted");
        assert_eq!(e[3].origin_ases, [64511]);
        assert!(e[2].prefixes.is_empty());
    }

    #[test]
    fn pfx2as_reads_pyasn_and_caida_lines() {
        let f = write("; IP-ASN32-DAT file\n1.0.0.0/24\t13335\n2001:db8::\t32\t64500_64501\n");
        let e = read_entities(f.path(), EntityFormat::Pfx2as).unwrap();
        let names: Vec<&str> = e.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["AS13335", "AS64500", "AS64501"]);
    }
}
