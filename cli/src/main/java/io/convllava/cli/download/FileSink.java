package io.convllava.cli.download;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.ResponseInfo;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a transfer's body goes: a {@code 206} continues the {@code .incomplete} file at the offset asked for, a
 * {@code 200} (a server that ignores ranges) rewrites it from the start, any other status is not written. The body
 * is the number of bytes written. The transfer can be aborted from another thread (a stall), and says when it last
 * received bytes.
 */
final class FileSink implements HttpResponse.BodyHandler<Long> {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final Path file;
    private final long offset;
    private final long size;
    private final TransferProgress progress;
    private volatile Writer writer;

    /** @param size the file's announced size, past which nothing is written; -1 when unknown */
    FileSink(Path file, long offset, long size, TransferProgress progress) {
        this.file = file;
        this.offset = offset;
        this.size = size;
        this.progress = progress;
    }

    @Override
    public BodySubscriber<Long> apply(ResponseInfo info) {
        int status = info.statusCode();
        if (status != 200 && status != 206) {
            return HttpResponse.BodySubscribers.replacing(-1L);
        }
        long start = 0;
        if (status == 206) {
            String range = info.headers().firstValue("Content-Range").orElse("");
            Matcher m = CONTENT_RANGE.matcher(range);
            if (!m.matches() || Long.parseLong(m.group(1)) != offset) {
                discardAll(); // the next attempt asks for the whole file
                return failing(new IOException("asked for the bytes from " + offset + ", the server sent the range '"
                        + range + "'"));
            }
            start = offset;
        } else if (offset > 0) {
            progress.restart(offset); // the whole file comes again
        }
        try {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            channel.truncate(start);
            channel.position(start);
            Writer w = new Writer(channel, start);
            writer = w;
            return w;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private void discardAll() {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(0);
            progress.restart(offset);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Nanoseconds since bytes last arrived, or since the body started; 0 before the response came. */
    long idleNanos() {
        Writer w = writer;
        return w == null ? 0 : System.nanoTime() - w.lastBytes;
    }

    /** Ends the transfer with {@code cause}: the connection is dropped and the file closed. */
    void abort(IOException cause) {
        Writer w = writer;
        if (w != null) {
            w.fail(cause);
        }
    }

    private static BodySubscriber<Long> failing(IOException e) {
        CompletableFuture<Long> failed = CompletableFuture.failedFuture(e);
        return new BodySubscriber<>() {
            @Override
            public CompletionStage<Long> getBody() {
                return failed;
            }

            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                subscription.cancel();
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
            }

            @Override
            public void onError(Throwable throwable) {
            }

            @Override
            public void onComplete() {
            }
        };
    }

    /** Appends each buffer as it comes, asking for the next only once it is written. */
    private final class Writer implements BodySubscriber<Long> {
        private final FileChannel channel;
        private final long start;
        private final CompletableFuture<Long> result = new CompletableFuture<>();
        private Flow.Subscription subscription;
        private long written;
        volatile long lastBytes = System.nanoTime();

        Writer(FileChannel channel, long start) {
            this.channel = channel;
            this.start = start;
        }

        @Override
        public CompletionStage<Long> getBody() {
            return result;
        }

        @Override
        public synchronized void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (result.isDone()) {
                s.cancel();
            } else {
                s.request(1);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            long n = 0;
            synchronized (this) {
                if (result.isDone()) {
                    return;
                }
                long arriving = buffers.stream().mapToLong(ByteBuffer::remaining).sum();
                if (size >= 0 && start + written + arriving > size) {
                    fail(new IOException("the server sends more than the " + size + " bytes the Hub announced"));
                    return;
                }
                try {
                    for (ByteBuffer b : buffers) {
                        while (b.hasRemaining()) {
                            n += channel.write(b);
                        }
                    }
                } catch (IOException e) {
                    fail(new IOException("cannot write " + file + ": " + e.getMessage(), e));
                    return;
                }
                written += n;
                lastBytes = System.nanoTime();
            }
            progress.advance(n);
            subscription.request(1);
        }

        @Override
        public synchronized void onError(Throwable t) {
            close();
            result.completeExceptionally(t);
        }

        @Override
        public synchronized void onComplete() {
            close();
            result.complete(written);
        }

        synchronized void fail(IOException cause) {
            if (result.isDone()) {
                return;
            }
            if (subscription != null) {
                subscription.cancel();
            }
            close();
            result.completeExceptionally(cause);
        }

        private void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // what was written is on disk; the next attempt looks at the file's size
            }
        }
    }
}
