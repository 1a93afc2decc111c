-- wrk script for bench/auth's login case: every request is POST /auth/login with the bench
-- user's credentials (env BENCH_LOGIN_EMAIL, BENCH_LOGIN_PASSWORD). A static request (no
-- request() function), so wrk keeps its fast path; done() is bench/wrk_report.lua's, loaded from
-- env BENCH_WRK_REPORT.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email":"%s","password":"%s","device_name":"wrk"}',
  os.getenv("BENCH_LOGIN_EMAIL"), os.getenv("BENCH_LOGIN_PASSWORD"))
dofile(os.getenv("BENCH_WRK_REPORT"))
