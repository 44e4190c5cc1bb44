#!/usr/bin/env bash
# Set up (if needed) and run medsync-bot locally: SQLite in instance/, the console transport
# (nothing is sent anywhere), demo patients, the web app on http://127.0.0.1:5000 and the
# scheduler beside it (PORT=8000 scripts/run.sh for another port). Ctrl-C stops both.
source "$(dirname "$0")/venv.sh"
PORT="${PORT:-5000}"
export MEDSYNC_DEMO="${MEDSYNC_DEMO:-1}"
export MEDSYNC_TRANSPORT="${MEDSYNC_TRANSPORT:-console}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}"
export SCHEDULER_INTERVAL_SECONDS="${SCHEDULER_INTERVAL_SECONDS:-15}"
export FLASK_APP=wsgi

# The same settings for the README's commands in another terminal: a `flask` command run
# without SECRET_KEY reads them from here (bot/config.py). Delete the file to leave demo mode.
# Private to this user: DATABASE_URL may carry a password.
mkdir -p instance && rm -f instance/demo.env
(umask 077 && {
    echo "# Written by scripts/run.sh; read by flask commands when SECRET_KEY is not set."
    for name in MEDSYNC_DEMO MEDSYNC_TRANSPORT PUBLIC_BASE_URL SCHEDULER_INTERVAL_SECONDS \
        DATABASE_URL PHARMACY_STORE_CODE PHARMACY_NAME PHARMACY_PHONE PHARMACY_TIMEZONE; do
        if [ -n "${!name:-}" ]; then
            echo "$name=${!name}"
        fi
    done
} >instance/demo.env)

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
flask run --host 127.0.0.1 --port "$PORT" --no-reload &
pids+=($!)

echo
echo "medsync-bot is running. Open:"
echo "  http://127.0.0.1:$PORT/login       the pharmacist workspace (login printed above)"
echo "  http://127.0.0.1:$PORT/dev/phone   the patient phone simulator"
echo "  http://127.0.0.1:$PORT/healthz     health check"
echo "In another terminal, .venv/bin/flask --app wsgi tick --next sends the next outreach now."
echo "Ctrl-C stops the web app and the scheduler."
wait -n "${pids[@]}"
stop
