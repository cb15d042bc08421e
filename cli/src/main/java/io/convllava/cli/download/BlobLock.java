package io.convllava.cli.download;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * The lock a blob is fetched under ({@code .locks/models--ORG--NAME/ETAG.lock}, the file {@code huggingface_hub}
 * locks too), so that two downloads of the same file, by this tool or the other, never write one {@code .incomplete}
 * file together: the second waits.
 */
final class BlobLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private BlobLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock at {@code file}, first telling {@code waiting} when another process holds it. */
    static BlobLock take(Path file, Consumer<String> waiting) {
        try {
            Files.createDirectories(file.getParent());
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                FileLock lock = channel.tryLock();
                if (lock == null) {
                    waiting.accept("waiting for another download that holds " + file);
                    lock = channel.lock();
                }
                return new BlobLock(channel, lock);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + file, e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // closing the channel releases the lock in any case
        }
    }
}
