# svf_ok LOG: the shell suites' SVF chain checker, independent of calyx's code (keys in
# order, BLAKE2b-256 over the line without its hash member, seq 1.., prev chaining); used by
# tests/host/run.sh and tests/host/audit_records.sh. Source it from the repository root:
#   . tests/lib/svf.sh
svf_ok() {
  python3 - "$1" <<'EOF'
import hashlib, json, sys
keys = ["seq","ts","type","lease","intent","host","data","prev","hash"]
prev = "0" * 64
n = 0
data = open(sys.argv[1], "rb").read()
if data and not data.endswith(b"\n"):
    sys.exit("partial last line")
for i, raw in enumerate(data.splitlines(), 1):
    rec = json.loads(raw)
    if list(rec.keys()) != keys: sys.exit(f"line {i}: keys {list(rec.keys())}")
    cut = raw.rindex(b',"hash":"')
    h = hashlib.blake2b(raw[:cut] + b"}", digest_size=32).hexdigest()
    if h != rec["hash"]: sys.exit(f"line {i}: hash mismatch")
    if rec["seq"] != i: sys.exit(f"line {i}: seq {rec['seq']}")
    if rec["prev"] != prev: sys.exit(f"line {i}: prev mismatch")
    prev = rec["hash"]; n += 1

EOF
}
