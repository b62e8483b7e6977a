/* A snapshot file's bytes on their way out: one buffer, flushed with
 * write(2) and folded into the CRC as it goes, so the file is written
 * front to back in one pass (a reader can follow it as a stream), and
 * record payloads assembled in mmap memory when their length must be known
 * before their header. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "quiet_write.h"
#include "snapshot_writer.h"

void hd_output_flush(struct hd_output *out) {
    out->crc = hd_crc32_update(out->crc, out->buffer, out->length);
    size_t done = 0;
    while (done < out->length && !out->failed) {
        ssize_t n = hd_write_quietly(out->fd, out->buffer + done, out->length - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            out->failed = true;
            out->error = n < 0 ? errno : EIO;
        } else {
            done += (size_t)n;
        }
    }
    out->bytes += out->length;
    out->length = 0;
}

void hd_output_put(struct hd_output *out, const void *data, size_t size) {
    const unsigned char *p = data;
    while (size) {
        if (out->length == HD_OUTPUT_BUFFER)
            hd_output_flush(out);
        size_t n = HD_OUTPUT_BUFFER - out->length < size ? HD_OUTPUT_BUFFER - out->length : size;
        memcpy(out->buffer + out->length, p, n);
        out->length += n;
        p += n;
        size -= n;
    }
}

void hd_output_record_header(struct hd_output *out, uint32_t type, size_t payload_size) {
    unsigned char header[HD_RECORD_HEADER_SIZE];
    hd_store_u32(header + HD_RECORD_TYPE_OFFSET, type);
    hd_store_u32(header + HD_RECORD_LENGTH_OFFSET, (uint32_t)payload_size);
    hd_output_put(out, header, sizeof header);
    out->records++;
}

void hd_output_record(struct hd_output *out, uint32_t type, const void *payload, size_t size) {
    hd_output_record_header(out, type, size);
    hd_output_put(out, payload, size);
}

void hd_output_string(struct hd_output *out, const void *data, size_t length) {
    unsigned char prefix[HD_STRING_LENGTH_SIZE];
    hd_store_u32(prefix, (uint32_t)length);
    hd_output_put(out, prefix, sizeof prefix);
    hd_output_put(out, data, length);
}

void hd_output_end(struct hd_output *out) {
    hd_output_flush(out);   /* the checksum covers everything before END */
    unsigned char end[HD_END_SIZE] = {0};
    hd_store_u64(end + HD_END_RECORD_COUNT, out->records);
    hd_store_u32(end + HD_END_CRC32, out->crc);
    hd_output_record(out, HD_RECORD_END, end, sizeof end);
    hd_output_flush(out);
}

bool hd_payload_init(struct hd_payload *p, size_t capacity) {
    *p = (struct hd_payload){.bytes = hd_pages_alloc(capacity), .capacity = capacity};
    p->failed = p->bytes == NULL;
    return !p->failed;
}

void hd_payload_free(struct hd_payload *p) {
    hd_pages_free(p->bytes, p->capacity);
    *p = (struct hd_payload){0};
}

/* Doubles the buffer with mremap, which moves pages instead of copying. */
bool hd_payload_reserve(struct hd_payload *p, size_t more) {
    if (p->failed)
        return false;
    if (p->capacity - p->length >= more)
        return true;
    size_t capacity = p->capacity;
    while (capacity - p->length < more)
        capacity *= 2;
    void *grown = hd_pages_resize(p->bytes, p->capacity, capacity);
    if (!grown) {
        p->failed = true;
        return false;
    }
    p->bytes = grown;
    p->capacity = capacity;
    return true;
}

void hd_payload_bytes(struct hd_payload *p, const void *data, size_t size) {
    if (!hd_payload_reserve(p, size))
        return;
    memcpy(p->bytes + p->length, data, size);
    p->length += size;
}

void hd_output_table(struct hd_output *out, uint32_t type, struct hd_payload *entries, uint64_t count) {
    unsigned char count_bytes[HD_VARINT_MAX];
    size_t count_length = hd_varint_put(count_bytes, count);
    hd_output_record_header(out, type, count_length + entries->length);
    hd_output_put(out, count_bytes, count_length);
    hd_output_put(out, entries->bytes, entries->length);
    entries->length = 0;
}
