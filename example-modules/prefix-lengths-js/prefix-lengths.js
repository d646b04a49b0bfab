// prefix-lengths: how many announcements each prefix length got, per
// address family, over the captures of a session. A bgpmon module in
// JavaScript, built with componentize-qjs against bgpmon:module@0.1.0.

import sessions from "bgpmon:module/sessions@0.1.0";
import logging from "bgpmon:module/logging@0.1.0";

export function info() {
  return {
    typeName: "prefix-lengths",
    description:
      "Counts announced prefixes by address family and prefix length (a JavaScript module)",
    kind: "task",
    options: [
      {
        name: "session",
        description: "the session to read",
        required: true,
        defaultValue: null,
      },
      {
        name: "collector",
        description: "read only this collector's captures (all when empty)",
        required: false,
        defaultValue: "",
      },
      {
        name: "batch",
        description: "captures per read",
        required: false,
        defaultValue: "1000",
      },
    ],
  };
}

function option(options, name) {
  const found = options.find((o) => o.name === name);
  return found ? found.value : undefined;
}

// A failed host call throws an Error whose payload is the WIT error variant
// ({ tag, val }); a run's error is a string, `kind: message` as the Rust SDK
// words it (`denied: ...`, `unknown id: ...`).
function describe(error) {
  const variant = error && typeof error === "object" && "payload" in error ? error.payload : error;
  if (variant && typeof variant === "object" && "tag" in variant) {
    return `${variant.tag.replaceAll("-", " ")}: ${variant.val}`;
  }
  return String(error);
}

export function run(options) {
  const batch = Number.parseInt(option(options, "batch"), 10);
  if (!Number.isInteger(batch) || batch < 1) {
    throw `option batch must be a positive integer, not ${JSON.stringify(option(options, "batch"))}`;
  }
  const collector = option(options, "collector");
  let reader;
  try {
    const session = sessions.openSession(option(options, "session"));
    reader = session.openCaptureReader(
      {
        collectors: collector ? [collector] : [],
        time: null,
        peerIps: [],
        peerAses: [],
        originAses: [],
        prefixes: [],
        prefixScope: "advertised",
        pathContains: [],
        communities: [],
        kind: "any",
      },
      false,
    );
  } catch (e) {
    throw describe(e);
  }

  // counts["4/24"] = announcements of IPv4 /24 prefixes.
  const counts = new Map();
  const families = { ipv4: 0, ipv6: 0 };
  let captures = 0;
  for (;;) {
    let captured;
    try {
      captured = reader.read(batch);
    } catch (e) {
      throw describe(e);
    }
    if (captured.length === 0) {
      break;
    }
    captures += captured.length;
    for (const capture of captured) {
      for (const prefix of capture.advertised) {
        const family = prefix.address.tag;
        families[family] += 1;
        const key = `${family === "ipv4" ? 4 : 6}/${prefix.length}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
  }
  logging.log("info", `read ${captures} captures`);

  const findings = [...counts.entries()]
    .map(([key, announcements]) => {
      const [family, length] = key.split("/").map(Number);
      return { family, length, announcements };
    })
    .sort((a, b) => a.family - b.family || a.length - b.length)
    .map(({ family, length, announcements }) => ({
      kind: "prefix-length",
      summary: `IPv${family} /${length}: ${announcements} announcements`,
      fields: [
        ["family", `ipv${family}`],
        ["length", String(length)],
        ["announcements", String(announcements)],
      ],
    }));
  return {
    message: `${captures} captures, ${families.ipv4} IPv4 and ${families.ipv6} IPv6 announcements`,
    findings,
  };
}
