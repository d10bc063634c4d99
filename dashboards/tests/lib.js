// lib.js: what the browser tests share: Debian's chromium (or skip, exit 77, when the
// machine has none) and counted checks, so that a test that checked nothing fails.
"use strict";
const fs = require("fs");

function chromiumPath() {
	const p = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((x) => fs.existsSync(x));
	if (!p) {
		console.error("SKIP: no chromium (Debian package chromium; scripts/install-deps installs it)");
		process.exit(77);
	}
	return p;
}

const tally = {passed: 0, failed: 0};
function check(ok, what, got, want) {
	if (ok) {
		tally.passed++;
	} else {
		tally.failed++;
		console.log(`FAIL: ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
	}
}

// Prints the tally and exits: 1 on a failure or fewer than min checks passed.
function finish(min) {
	console.log(`${tally.passed} passed, ${tally.failed} failed`);
	process.exit(tally.failed || tally.passed < min ? 1 : 0);
}

module.exports = {chromiumPath, check, finish, tally};
