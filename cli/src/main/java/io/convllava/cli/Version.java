package io.convllava.cli;

import picocli.CommandLine;

/** {@code convllava --version}: the version the distribution was built as. */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Main.class.getPackage().getImplementationVersion();
        return new String[] {"convllava " + (version != null ? version : "(development build)"),
                "Java " + Runtime.version() + " on " + System.getProperty("os.name") + " " + System.getProperty("os.arch")};
    }
}
