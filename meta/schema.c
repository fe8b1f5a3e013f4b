/* placeholder: being written */
typedef int vfs_placeholder_schema;
