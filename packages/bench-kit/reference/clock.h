/* clock.h: the timers the C references of the benchmarks report with. */
#ifndef UDPKIT_BENCH_CLOCK_H
#define UDPKIT_BENCH_CLOCK_H

#include <sys/resource.h>
#include <time.h>

/* CPU time of this process, user + system, in microseconds. */
static long long cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* User CPU time alone, in microseconds. */
static long long user_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec;
}

/* A monotonic clock in nanoseconds. */
static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
