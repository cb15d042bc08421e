package io.convllava.cli.download;

import java.util.List;

/**
 * A repository at one revision: the commit the revision names and the files of that commit.
 *
 * @param files paths in the repository, as the Hub lists them ({@code siblings[].rfilename})
 */
public record RemoteRevision(String repo, String revision, String commit, List<String> files) {
    public RemoteRevision {
        files = List.copyOf(files);
    }
}
