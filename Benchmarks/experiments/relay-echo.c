/*
 * relay-echo.c - the native end of the throughput ceiling (Benchmarks/Findings.md 14).
 *
 *   relay-echo COMMAND [ARG...]
 *
 * Runs COMMAND (normally `wine64 sipc-demo-server.exe --relay-echo ...`) with
 * its stdin and stderr connected to this process through two pipes, and
 * echoes every byte it reads from the child's stderr back into the child's
 * stdin at once. The child's stdout is inherited. With --relay-echo the C
 * server makes one such one-byte round trip per AddInt call before it
 * answers: the least any bridge to a native process must add to a call.
 * SIGTERM, SIGINT and SIGHUP are passed on to the child. Exits with the
 * child's exit code once the child has closed its stderr and exited, after
 * printing "relay-echo: echoed=N" (the bytes echoed) on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child_pid;

static void pass_on(int sig)
{
    if (child_pid > 0)
        kill(child_pid, sig);
}

int main(int argc, char **argv)
{
    int to_child[2], from_child[2];
    if (argc < 2) {
        fprintf(stderr, "usage: relay-echo COMMAND [ARG...]\n");
        return 2;
    }
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
        perror("relay-echo: pipe2");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("relay-echo: fork");
        return 1;
    }
    if (pid == 0) {
        if (dup2(to_child[0], 0) < 0 || dup2(from_child[1], 2) < 0)
            _exit(127);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    child_pid = pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pass_on;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    close(to_child[0]);
    close(from_child[1]);
    unsigned long echoed = 0;
    for (;;) {
        char buf[256];
        ssize_t n = read(from_child[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(to_child[1], buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                goto done;
            off += w;
        }
        echoed += (unsigned long)n;
    }
done:
    close(to_child[1]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    fprintf(stdout, "relay-echo: echoed=%lu\n", echoed);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
