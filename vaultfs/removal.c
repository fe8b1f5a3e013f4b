/*
 * vaultfs/removal.c — nodes that lost their last name, and their blobs.
 *
 * A node with no names left is deleted when the kernel and open handles let go
 * of it (or at once when nobody holds it); its blob goes only after its row is
 * gone for good. Orphans left by a crash are removed before mounting.
 */
#include "vaultfs/ops.h"
#include "vaultfs/ops-internal.h"

#include <stdlib.h>
#include <string.h>

#include "vaultfs/blobpool.h"

/* Remove the blob of a deleted node, whose row is gone for good: by the blob
 * pool's thread when it can take it, else here. */
void vfs_blob_discard(struct vfs *v, const uint8_t object_id[META_OBJECT_ID_BYTES])
{
	if (!v->blobpool || vfs_blobpool_discard(v->blobpool, object_id) < 0)
		(void)kt_store_remove(v->store, object_id);
}

/*
 * Delete unlinked nodes that nobody references any more, and their blobs:
 * all of them in one transaction (takes db_lock). A node that got a name
 * again meanwhile (nlink > 0) is kept.
 */
void vfs_delete_nodes(struct vfs *v, const uint64_t *inos, size_t n)
{
	uint8_t(*blobs)[META_OBJECT_ID_BYTES] = calloc(n ? n : 1, sizeof(*blobs));
	size_t nblobs = 0;
	int r;

	db_lock(v);
	r = meta_tx_begin(v->db);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct meta_node node = {0};

		if (meta_node_get(v->db, inos[i], &node) == 0 && node.nlink == 0) {
			r = meta_node_delete(v->db, inos[i]);
			if (r == 0 && node.has_object && blobs)
				memcpy(blobs[nblobs++], node.object_id, META_OBJECT_ID_BYTES);
		}
		meta_node_clear(&node);
	}
	r = meta_tx_end(v->db, r);
	db_unlock(v);
	/* Blobs go only once their rows are gone for good (a crash in between
	 * leaves unreferenced blobs, never rows without blobs). */
	for (size_t i = 0; r == 0 && i < nblobs; i++)
		vfs_blob_discard(v, blobs[i]);
	free(blobs);
}

void vfs_delete_node(struct vfs *v, uint64_t ino)
{
	vfs_delete_nodes(v, &ino, 1);
}

void vfs_unpin(struct vfs *v, struct vfs_inode *in)
{
	uint64_t ino = in->ino;

	if (vfs_inode_unpin(v->itable, in))
		vfs_delete_node(v, ino);
}

/* After a change left node n with no names: delete it now or when the kernel
 * and open handles let go of it (db_lock NOT held). */
void vfs_node_unlinked(struct vfs *v, uint64_t ino)
{
	struct vfs_inode *in = vfs_inode_find(v->itable, ino);

	if (!in) {
		vfs_delete_node(v, ino);
		return;
	}
	vfs_inode_set_unlinked(v->itable, in);
	vfs_unpin(v, in);
}

int vfs_remove_orphans(struct vfs *v)
{
	uint64_t *inos = NULL;
	size_t n = 0;
	int r;

	r = meta_node_list_orphans(v->db, &inos, &n);
	if (r < 0)
		return r;
	vfs_delete_nodes(v, inos, n);
	free(inos);
	return (int)n;
}
