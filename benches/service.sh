# Shell helpers shared by the load benches (sourced, not run): a free loopback port, waiting for
# a started service to answer /readyz, and a process's peak resident memory.

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_ready URL PID: returns once URL/readyz answers 200 (0), or when PID has exited or about
# 15 s have passed (1).
wait_ready() {
    for _ in $(seq 3000); do
        curl -sf -o /dev/null "$1/readyz" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.005
    done
    return 1
}

# peak_rss_mb PID: the process's peak resident memory (VmHWM) in MB.
peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
