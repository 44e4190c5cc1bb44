#!/usr/bin/env bash
# Set up (if needed) and run medsync-bot locally: SQLite in instance/, the console transport
# (nothing is sent anywhere), demo patients, the web app on http://127.0.0.1:5000 and the
# scheduler beside it. Ctrl-C stops both.
source "$(dirname "$0")/venv.sh"
export MEDSYNC_DEMO="${MEDSYNC_DEMO:-1}"
export MEDSYNC_TRANSPORT="${MEDSYNC_TRANSPORT:-console}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:5000}"
export SCHEDULER_INTERVAL_SECONDS="${SCHEDULER_INTERVAL_SECONDS:-15}"
export FLASK_APP=wsgi

flask db upgrade
# Patients are loaded once; each run prints a fresh password for the demo pharmacist.
flask demo

pids=()
stop() {
    trap - INT TERM
    echo
    echo "stopping medsync-bot"
    kill "${pids[@]}" 2>/dev/null
    wait "${pids[@]}" 2>/dev/null
    exit 0
}
trap stop INT TERM

flask run-scheduler &
pids+=($!)
flask run --host 127.0.0.1 --port 5000 --no-reload &
pids+=($!)

echo
echo "medsync-bot is running. Open:"
echo "  http://127.0.0.1:5000/login       the pharmacist workspace (login printed above)"
echo "  http://127.0.0.1:5000/dev/phone   the patient phone simulator"
echo "  http://127.0.0.1:5000/healthz     health check"
echo "Ctrl-C stops the web app and the scheduler."
wait -n "${pids[@]}"
stop
