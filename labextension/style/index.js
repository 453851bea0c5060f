import './base.css';
import './sciencemesh.css';
import './zenodo.css';
import './sharing.css';
import './collab.css';
import './publish.css';
