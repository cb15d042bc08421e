package io.convllava.cli.download;

import java.net.http.HttpHeaders;

/**
 * What a refusal of the Hub means for the user. The Hub names the reason in {@code X-Error-Code}
 * ({@code RepoNotFound}, {@code RevisionNotFound}, {@code EntryNotFound}, {@code GatedRepo}) and explains it in
 * {@code X-Error-Message}; without a token it answers 401 also for repositories that do not exist, so that private
 * ones stay hidden.
 */
final class HubErrors {
    private HubErrors() {
    }

    /**
     * @param what     what was asked for, e.g. "repository ConvLLaVA/x at revision main" or "config.json of ..."
     * @param repo     the repository, for the gated-repo hint
     */
    static HubException refused(int status, HttpHeaders headers, String what, String repo, HubAccess access) {
        String code = headers.firstValue("X-Error-Code").orElse("");
        String detail = headers.firstValue("X-Error-Message").map(m -> " (the Hub says: " + m + ")").orElse("");
        String page = access.resolvePath(repo).toString();
        return new HubException(switch (status) {
            case 401 -> access.token() == null
                    ? what + ": the Hub at " + access.endpoint() + " answered 401 Unauthorized" + detail
                    + ". The repository does not exist, or it is private or gated and needs a token: set HF_TOKEN"
                    + " (or --token-file) to a token from " + access.resolvePath("settings/tokens")
                    + (code.equals("GatedRepo") ? " and accept the model's terms at " + page : "")
                    : what + ": the Hub at " + access.endpoint() + " refused the token from " + access.tokenSource()
                    + " (401 Unauthorized)" + detail + "; check that it is valid, or that the repository " + repo
                    + " exists";
            case 403 -> what + ": the token from " + (access.token() == null ? "(none)" : access.tokenSource())
                    + " has no access (403 Forbidden)" + detail + ". If the model is gated, accept its terms at "
                    + page + " with the account of the token";
            case 404 -> switch (code) {
                case "RevisionNotFound" -> what + ": no such revision in " + repo + " (404)" + detail
                        + "; give a branch, tag or commit of the repository with --revision";
                case "EntryNotFound" -> what + ": no such file in " + repo + " (404)" + detail;
                default -> what + ": not found on " + access.endpoint() + " (404)" + detail
                        + "; check the repository id ORG/NAME and --revision";
            };
            case 429 -> what + ": the Hub asks to slow down (429 Too Many Requests)" + detail
                    + "; wait a while and run the download again (it resumes)";
            default -> what + ": HTTP " + status + " from " + access.endpoint() + detail;
        });
    }

    /** Statuses worth another try: the server or a proxy was busy. */
    static boolean transientStatus(int status) {
        return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
    }
}
