"""Print the fault suite's figures (WALCAST_FAULTS_RESULTS, one JSON line
per run, written by fault_harness.py) as the Markdown table of
docs/reliability.md: one row per run."""
import json
import sys


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    print("| fault | size | seed | faults | changes | lost | unexpected | duplicated (in window) "
          "| changed duplicates | reordered (table/key) | redelivered by RabbitMQ |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        # first arrivals RabbitMQ gave back after newer ones (fault_checker.py)
        late = r.get("reordered_redelivered", 0)
        redelivered = "%d%s" % (r["redelivered"], " (+%d late first arrivals)" % late if late else "")
        print("| %s | %s | %s | %d | %d | %d | %d | %d (%d) | %d | %d/%d | %s |" % (
            r["fault"], r["size"], r["seed"], r["runs"], r["changes"], r["lost"], r["unexpected"],
            r["duplicated"], r["dup_in_window"], r["dup_changed"], r["reordered_table"],
            r["reordered_key"], redelivered))

if __name__ == "__main__":
    main(sys.argv[1])
